package partition

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// openAs opens a replica on node self with the given leadership.
func openAs(t *testing.T, fs vfs.FS, dir string, self int32, l Leadership) *Partition {
	t.Helper()
	p, err := Open(Config{Topic: "t", Index: 0, FS: fs, Dir: dir, Log: wlog.DefaultConfig(), DurableAcks: true, NodeID: self})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetLeadership(l); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func appendValues(t *testing.T, p *Partition, values ...string) AppendResult {
	t.Helper()
	b, h := batch(t, nil, values...)
	res, err := p.Append(b, h)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The high watermark is the lowest log end over the ISR, and stands still while the ISR
// is below min.insync.replicas; acks=all waits for it, and fails with
// NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrinks below the minimum meanwhile.
func TestLeaderHighWatermarkFollowsTheISR(t *testing.T) {
	l := Leadership{Leader: 1, LeaderEpoch: 3, PartitionEpoch: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}, MinISR: 2}
	p := openAs(t, vfs.NewMem(), "/d", 1, l)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := appendValues(t, p, "a", "b")
	if err := p.WaitDurable(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("high watermark %d before any follower fetched, want 0", hw)
	}
	fetched := func(replica int32, offset int64) {
		t.Helper()
		if _, err := p.FollowerFetched(ReplicaFetch{Replica: replica, BrokerEpoch: 7, CurrentEpoch: 3, Offset: offset, LastFetchedEpoch: -1}); err != nil {
			t.Fatal(err)
		}
	}
	fetched(2, 2)
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("high watermark %d with follower 3 unheard, want 0", hw)
	}
	fetched(3, 1)
	if hw := p.HighWatermark(); hw != 1 {
		t.Fatalf("high watermark %d, want 1 (the slowest in-sync replica)", hw)
	}
	fetched(3, 2)
	if err := p.WaitReplicated(ctx, res.LastOffset+1, res.LeaderEpoch); err != nil {
		t.Fatalf("acks=all wait with every replica at 2: %v", err)
	}

	// Follower 3 leaves the ISR: 2 of 3 still meet min.insync.replicas 2.
	l.ISR, l.PartitionEpoch = []int32{1, 2}, 2
	if _, err := p.SetLeadership(l); err != nil {
		t.Fatal(err)
	}
	res = appendValues(t, p, "c")
	fetched(2, 3)
	if err := p.WaitReplicated(ctx, res.LastOffset+1, res.LeaderEpoch); err != nil {
		t.Fatalf("acks=all with 2 of 3 in sync: %v", err)
	}

	// Below the minimum: the high watermark stands still (strict min ISR), and a
	// waiting acks=all produce is told so.
	res = appendValues(t, p, "d")
	waited := make(chan error, 1)
	go func() { waited <- p.WaitReplicated(ctx, res.LastOffset+1, res.LeaderEpoch) }()
	l.ISR, l.PartitionEpoch = []int32{1}, 3
	if _, err := p.SetLeadership(l); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; !errors.Is(err, kerr.NotEnoughReplicasAfterAppend) {
		t.Fatalf("acks=all wait when the ISR fell below the minimum: %v, want NOT_ENOUGH_REPLICAS_AFTER_APPEND", err)
	}
	if err := p.WaitDurable(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if hw := p.HighWatermark(); hw != 3 {
		t.Fatalf("high watermark %d with 1 in sync and min.insync.replicas 2, want it held at 3", hw)
	}
}

// A follower that caught up is proposed for the ISR; one that stopped catching up is
// proposed out of it after the lag time; a fetch from a stale incarnation is refused.
func TestISRChangesFromFollowerProgress(t *testing.T) {
	now := time.Unix(1000, 0)
	p, err := Open(Config{Topic: "t", Index: 0, FS: vfs.NewMem(), Dir: "/d", Log: wlog.DefaultConfig(), DurableAcks: false,
		NodeID: 1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	l := Leadership{Leader: 1, LeaderEpoch: 1, PartitionEpoch: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2}, MinISR: 1}
	if _, err := p.SetLeadership(l); err != nil {
		t.Fatal(err)
	}
	appendValues(t, p, "a")
	res, err := p.FollowerFetched(ReplicaFetch{Replica: 2, BrokerEpoch: 5, CurrentEpoch: 1, Offset: 1, LastFetchedEpoch: 1})
	if err != nil || res.Expand != nil {
		t.Fatalf("fetch of an in-sync follower: %+v %v", res, err)
	}
	res, err = p.FollowerFetched(ReplicaFetch{Replica: 3, BrokerEpoch: 9, CurrentEpoch: 1, Offset: 1, LastFetchedEpoch: 1})
	if err != nil || res.Expand == nil || len(res.Expand.ISR) != 3 || res.Expand.BrokerEpochs[2] != 9 {
		t.Fatalf("fetch of a caught-up follower out of the ISR: %+v %v, want a proposal of [1 2 3] with its epoch", res, err)
	}
	p.ISRChangeDone(res.Expand)
	if _, err := p.FollowerFetched(ReplicaFetch{Replica: 3, BrokerEpoch: 8, CurrentEpoch: 1, Offset: 1, LastFetchedEpoch: 1}); !errors.Is(err, kerr.NotLeaderForPartition) {
		t.Fatalf("fetch from an older incarnation: %v", err)
	}
	if c := p.ShrinkISR(10 * time.Second); c != nil {
		t.Fatalf("shrink proposed with every follower caught up: %+v", c)
	}
	appendValues(t, p, "b")
	now = now.Add(11 * time.Second)
	c := p.ShrinkISR(10 * time.Second)
	if c == nil || len(c.ISR) != 1 || c.ISR[0] != 1 {
		t.Fatalf("shrink after follower 2 lagged 11 s: %+v, want [1]", c)
	}
}

// A follower appends the leader's batches as they are and rebuilds producer state from
// them; told the leader's epoch ends earlier than its own log, it truncates there.
func TestFollowerAppendsAndTruncatesWhereItDiverges(t *testing.T) {
	fs := vfs.NewMem()
	leader := openAs(t, fs, "/leader", 1, Leadership{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1}, MinISR: 1})
	follower := openAs(t, fs, "/follower", 2, Leadership{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1}, MinISR: 1})
	for seq, v := range []string{"x", "y"} {
		b, h := batch(t, &records.ProducerFields{ID: 7, Epoch: 0, BaseSequence: int32(seq)}, v)
		if _, err := leader.Append(b, h); err != nil {
			t.Fatal(err)
		}
	}
	chunks, err := leader.ReadReplica(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	data, err := chunks.ReadInto(nil)
	chunks.Release()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := follower.AppendReplicated(data, 0); !errors.Is(err, ErrNotFollower) {
		t.Fatalf("append under a stale leader epoch: %v, want ErrNotFollower", err)
	}
	end, err := follower.AppendReplicated(data, 1)
	if err != nil || end != 2 {
		t.Fatalf("replicated append: end %d, %v", end, err)
	}
	if got := follower.Producers(); len(got) != 1 || got[0].ProducerID != 7 {
		t.Fatalf("follower's producers %+v, want producer 7", got)
	}
	// The same bytes again do not fit after the end: refused, nothing changes.
	if _, err := follower.AppendReplicated(data, 1); !errors.Is(err, wlog.ErrNotContiguous) {
		t.Fatalf("replaying a chunk: %v, want ErrNotContiguous", err)
	}
	if diverging, _, _ := leader.Diverging(1, 2); diverging {
		t.Fatal("a follower at the leader's end in its epoch diverges")
	}
	// The leader moved on at epoch 2 after offset 1: epoch 1 ends at 1 there.
	cut, err := follower.TruncateDiverging(1, 1)
	if err != nil || cut != 1 || follower.Log().EndOffset() != 1 {
		t.Fatalf("truncate to the leader's end of epoch 1: %d, %v", cut, err)
	}
}

// FuzzAppendReplicated feeds arbitrary bytes as a leader's fetch answer to a follower:
// refused or taken, never a panic, and what is refused changes nothing.
func FuzzAppendReplicated(f *testing.F) {
	valid := records.Build(records.BuildOptions{BaseTimestamp: 1, PartitionLeaderEpoch: 1}, []records.Record{{Value: []byte("v")}})
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Open(Config{Topic: "t", Index: 0, FS: vfs.NewMem(), Dir: "/d", Log: wlog.DefaultConfig(), NodeID: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if _, err := p.SetLeadership(Leadership{Leader: 1, LeaderEpoch: 1, Replicas: []int32{1, 2}, ISR: []int32{1, 2}, MinISR: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.AppendReplicated(data, 1); err != nil && p.Log().EndOffset() != 0 {
			t.Fatalf("refused chunk moved the log end to %d: %v", p.Log().EndOffset(), err)
		}
	})
}
