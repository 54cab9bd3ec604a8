package lab

import (
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/partition"
)

func batch(base, last int64, epoch int32, crc uint32) partition.BatchID {
	return partition.BatchID{BaseOffset: base, LastOffset: last, LeaderEpoch: epoch, CRC: crc}
}

// replica is node's replica of partition p, ending after its last batch.
func replica(node, p int32, batches ...partition.BatchID) faults.ReplicaLog {
	r := faults.ReplicaLog{Node: node, Partition: p, Batches: batches}
	if len(batches) > 0 {
		r.End = batches[len(batches)-1].LastOffset + 1
	}
	return r
}

func (b *hist) replicas(logs ...faults.ReplicaLog) *hist {
	b.h.Replicas = append(b.h.Replicas, logs...)
	return b
}

// Two batches every replica of the tests below agrees on.
var (
	first  = batch(0, 9, 0, 0xaaaa)
	second = batch(10, 19, 1, 0xbbbb)
)

func TestCheckReplicaDivergence(t *testing.T) {
	agreeing := func() *hist {
		return newHist().replicas(replica(1, 0, first, second), replica(2, 0, first, second), replica(3, 0, first, second))
	}
	runCases(t, []checkCase{
		{name: "no replicas read", h: newHist()},
		{name: "replicas that agree", h: agreeing()},
		{name: "one replica with a longer tail the others have not copied",
			h: newHist().replicas(replica(1, 0, first, second, batch(20, 29, 1, 0xcccc)),
				replica(2, 0, first, second), replica(3, 0, first))},
		{name: "an empty replica",
			h: newHist().replicas(replica(1, 0, first, second), replica(2, 0))},
		{name: "a replica whose old segments are deleted",
			h: newHist().replicas(replica(1, 0, first, second), replica(2, 0, second))},
		{name: "a single replica", h: newHist().replicas(replica(1, 0, first, second))},
		{name: "the same replica listed twice",
			h: newHist().replicas(replica(1, 0, first, second), replica(1, 0, first, second))},
		{name: "a deposed leader's unreplicated tail kept",
			h: newHist().replicas(replica(1, 0, first, batch(10, 19, 0, 0xdddd)),
				replica(2, 0, first, batch(10, 14, 1, 0xeeee)), replica(3, 0, first, batch(10, 14, 1, 0xeeee))),
			want: map[Anomaly]int{ReplicaDivergence: 1}},
		{name: "same offsets and epoch, other records",
			h:    agreeing().replicas(replica(4, 0, first, batch(10, 19, 1, 0xffff))),
			want: map[Anomaly]int{ReplicaDivergence: 1}},
		{name: "two differing batches count twice",
			h:    agreeing().replicas(replica(4, 0, batch(0, 9, 0, 1), batch(10, 19, 1, 2))),
			want: map[Anomaly]int{ReplicaDivergence: 2}},
		{name: "batches that do not line up count once",
			h:    agreeing().replicas(replica(4, 0, batch(0, 4, 0, 1), batch(5, 14, 0, 2), batch(15, 19, 1, 3))),
			want: map[Anomaly]int{ReplicaDivergence: 1}},
		{name: "a gap in one replica",
			h:    agreeing().replicas(replica(4, 0, first, batch(15, 19, 1, 0xbbbb))),
			want: map[Anomaly]int{ReplicaDivergence: 1}},
		{name: "a log ending inside another replica's batch",
			h:    agreeing().replicas(replica(4, 0, first, batch(10, 14, 1, 0xbbbb))),
			want: map[Anomaly]int{ReplicaDivergence: 1}},
		{name: "each partition on its own",
			h: agreeing().replicas(replica(1, 1, first), replica(2, 1, first),
				replica(1, 2, first), replica(3, 2, batch(0, 9, 1, 0xaaaa))),
			want: map[Anomaly]int{ReplicaDivergence: 1}},
	})
}

func TestCheckReplicaDivergenceExamples(t *testing.T) {
	h := newHist().replicas(
		replica(3, 0, first, batch(10, 14, 1, 0xeeee)),
		replica(1, 0, first, batch(10, 19, 0, 0xdddd)),
		replica(2, 0, first, batch(10, 14, 1, 0xeeee)),
		replica(1, 1, first, second, batch(20, 20, 1, 0x1)),
		replica(2, 1, first, batch(20, 20, 1, 0x1)),
		replica(1, 2, batch(0, 4, 0, 1), batch(5, 9, 0, 2)),
		replica(2, 2, first),
	)
	want := []string{
		"partition 0 offsets 10-14: node 1 has 10-19 epoch 0 crc 0x0000dddd; nodes 2 and 3 have epoch 1 crc 0x0000eeee",
		"partition 1 offsets 10-19: node 1 has epoch 1 crc 0x0000bbbb; node 2 has no batch",
		"partition 2 offsets 0-9: node 1 has 0-4 epoch 0 crc 0x00000001, 5-9 epoch 0 crc 0x00000002; node 2 has epoch 0 crc 0x0000aaaa",
	}
	got := Check(h.history()).Examples[ReplicaDivergence]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("examples\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The recorder keeps the replicas it was given, whatever the caller does with its slice
// afterwards, and the check finds them in the history.
func TestRecorderReplicas(t *testing.T) {
	rec := NewRecorder("t", 1)
	logs := []faults.ReplicaLog{replica(1, 0, first), replica(2, 0, batch(0, 9, 1, 0xaaaa))}
	rec.Replicas(logs)
	logs[1] = replica(2, 0, first)
	if n := Check(rec.History()).Count(ReplicaDivergence); n != 1 {
		t.Errorf("replica-divergence %d, want 1", n)
	}
}
