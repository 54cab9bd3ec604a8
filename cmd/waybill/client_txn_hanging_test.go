package main

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

func TestHangingReason(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	open := kadm.DescribedProducer{Topic: "orders", Partition: 1, ProducerID: 7, LastTimestamp: now.Add(-time.Minute).UnixMilli(), CurrentTxnStartOffset: 40}
	owner := func(state string, started time.Duration, partitions ...int32) *kadm.DescribedTransaction {
		d := &kadm.DescribedTransaction{TxnID: "tx", State: state, ProducerID: 7, StartTimestamp: now.Add(-started).UnixMilli()}
		d.Topics.Add("orders", partitions...)
		return d
	}
	for _, c := range []struct {
		name  string
		owner *kadm.DescribedTransaction
		want  string // substring of the reason; "" means not hanging
	}{
		{"no coordinator knows the producer", nil, "no coordinator has a transaction"},
		{"coordinator completed it", owner("CompleteCommit", time.Minute), "is CompleteCommit at the coordinator"},
		{"coordinator's transaction lacks the partition", owner("Ongoing", time.Minute, 0), "does not include orders/1"},
		{"ongoing with the partition", owner("Ongoing", time.Minute, 0, 1), ""},
		{"markers being written", owner("PrepareCommit", time.Minute, 1), ""},
		{"ongoing too long", owner("Ongoing", 20*time.Minute, 1), "open for 20m0s, longer than the max transaction timeout 15m0s"},
	} {
		got := hangingReason(open, c.owner, now, 15*time.Minute)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: reason %q, want %q", c.name, got, c.want)
		}
	}
}
