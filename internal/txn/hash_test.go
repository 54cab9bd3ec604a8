package txn

import "testing"

func TestPartitionForMatchesKafka(t *testing.T) {
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
		if got := partitionFor(tc.id, 50); got != tc.want {
			t.Errorf("partitionFor(%q) = %d, want %d", tc.id, got, tc.want)
		}
	}
}
