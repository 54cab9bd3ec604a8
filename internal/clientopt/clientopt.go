// Package clientopt turns the settings users type (acks, compression, lists of brokers)
// into franz-go options, so that the client tools, the benchmark and the lab accept the
// same spellings.
package clientopt

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Acks maps "all" (or -1, its wire value), "1" and "0" to franz-go.
func Acks(s string) (kgo.Acks, error) {
	switch strings.ToLower(s) {
	case "all", "-1":
		return kgo.AllISRAcks(), nil
	case "1":
		return kgo.LeaderAck(), nil
	case "0":
		return kgo.NoAck(), nil
	}
	return kgo.Acks{}, fmt.Errorf("acks %q is not 0, 1 or all", s)
}

// Compression maps none (or empty), gzip, snappy, lz4 and zstd to a franz-go codec.
func Compression(s string) (kgo.CompressionCodec, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression %q is not none, gzip, snappy, lz4 or zstd", s)
}

// List splits a comma-separated flag value (bootstrap servers, names), tolerating spaces
// and stray commas.
func List(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
