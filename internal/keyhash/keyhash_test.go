package keyhash

import (
	"math"
	"testing"
)

func TestPartitionForMatchesKafka(t *testing.T) {
	hashes := []struct {
		s    string
		hash int32
	}{
		{"", 0},
		{"a", 97},
		{"hello", 99162322},
		{"Aa", 2112}, // the classic collision with "BB"
		{"BB", 2112},
		{"\U0001F600", 31*0xD83D + 0xDE00}, // hashed as a UTF-16 surrogate pair
		{"polygenelubricants", math.MinInt32},
	}
	for _, c := range hashes {
		if got := JavaStringHashCode(c.s); got != c.hash {
			t.Errorf("hashCode(%q) = %d, want %d", c.s, got, c.hash)
		}
	}
	// Utils.abs(MinInt32) is 0, not negative.
	if p := Partition("polygenelubricants", 50); p != 0 {
		t.Errorf("partition of a MinInt32 hash = %d, want 0", p)
	}
	if p := Partition("hello", 50); p != 99162322%50 {
		t.Errorf("partition of hello = %d", p)
	}
	// A negative hash is made positive before the modulo.
	if h := JavaStringHashCode("console-consumer-12345"); h < 0 {
		if p := Partition("console-consumer-12345", 50); p != -h%50 {
			t.Errorf("partition of negative hash = %d, want %d", p, -h%50)
		}
	}
}

func TestPartitionMatchesKafkaValues(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want int32
	}{
		{"hello", 99162322 % 50},     // "hello".hashCode() == 99162322
		{"polygenelubricants", 0},    // hashCode() == Integer.MIN_VALUE; Utils.abs maps it to 0
		{"", 0},                      // hashCode() == 0
		{"Aa", 2112 % 50},            // "Aa".hashCode() == 2112
		{"\U0001F600", 1772899 % 50}, // U+D83D U+DE00: 0xD83D*31 + 0xDE00
	} {
		if got := Partition(tc.id, 50); got != tc.want {
			t.Errorf("Partition(%q) = %d, want %d", tc.id, got, tc.want)
		}
	}
}
