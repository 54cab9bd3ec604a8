// Package keyhash maps a coordinator key (a group id, a transactional id) to the partition
// of the internal topic that owns it, exactly as Kafka does, so that Kafka tooling and
// Waybill agree on where each coordinator lives.
package keyhash

import (
	"math"
	"unicode/utf16"
)

// Partition is Kafka's abs(key.hashCode()) % numPartitions, with Java's String.hashCode
// over UTF-16 code units.
func Partition(key string, numPartitions int32) int32 {
	return kafkaAbs(JavaStringHashCode(key)) % numPartitions
}

// JavaStringHashCode is java.lang.String.hashCode. Converting to runes maps invalid UTF-8
// to U+FFFD, as Kafka's UTF-8 decoding of the wire string does.
func JavaStringHashCode(s string) int32 {
	var h int32
	for _, unit := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(unit)
	}
	return h
}

// kafkaAbs is org.apache.kafka.common.utils.Utils.abs, which maps MinInt32 to 0 rather
// than leaving it negative.
func kafkaAbs(n int32) int32 {
	switch {
	case n == math.MinInt32:
		return 0
	case n < 0:
		return -n
	}
	return n
}
