package txn

import (
	"math"
	"unicode/utf16"
)

// PartitionFor returns the __transaction_state partition that owns
// transactionalID: Kafka's abs(transactionalID.hashCode()) %
// transaction.state.log.num.partitions, with Java's String.hashCode over
// UTF-16 code units, so that Kafka tooling locates the same coordinator.
//
// The hash duplicates internal/group/hash.go, which this package may not
// import from; the two should move to one shared helper.
func (c *Coordinator) PartitionFor(transactionalID string) int32 {
	return partitionFor(transactionalID, c.cfg.NumPartitions)
}

func partitionFor(key string, numPartitions int32) int32 {
	return kafkaAbs(javaStringHashCode(key)) % numPartitions
}

// javaStringHashCode is java.lang.String.hashCode. Converting to runes maps
// invalid UTF-8 to U+FFFD, as Kafka's UTF-8 decoding of the wire string does.
func javaStringHashCode(s string) int32 {
	var h int32
	for _, unit := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(unit)
	}
	return h
}

// kafkaAbs is org.apache.kafka.common.utils.Utils.abs, which maps MinInt32
// to 0 rather than leaving it negative.
func kafkaAbs(n int32) int32 {
	switch {
	case n == math.MinInt32:
		return 0
	case n < 0:
		return -n
	}
	return n
}
