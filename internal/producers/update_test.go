package producers

import "testing"

func TestUpdateRecordsBatches(t *testing.T) {
	s := NewState()
	h := batch(3, 1, 10, 4)
	h.BaseOffset = 100
	s.Update(h, 777)
	p, ok := s.Producer(3)
	want := BatchInfo{FirstSeq: 10, LastSeq: 13, FirstOffset: 100, LastOffset: 103, Timestamp: 777}
	if !ok || p.Epoch != 1 || p.LastTimestamp != 777 || len(p.Batches) != 1 || p.Batches[0] != want ||
		p.TxnFirstOffset != -1 || p.CoordinatorEpoch != -1 {
		t.Fatalf("producer %+v", p)
	}
	// Producer returns a copy.
	p.Batches[0].FirstSeq = 99
	if q, _ := s.Producer(3); q.Batches[0].FirstSeq != 10 {
		t.Fatal("Producer exposed internal state")
	}
}

func TestReplayRebuildsWithoutChecks(t *testing.T) {
	s := NewState()
	// Gaps and epoch changes that Check would refuse are taken as the log has them.
	for i, h := range []struct {
		epoch int16
		seq   int32
	}{{0, 0}, {0, 5}, {2, 3}, {1, 0}} {
		b := batch(4, h.epoch, h.seq, 1)
		b.BaseOffset = int64(i)
		s.Replay(b, int64(i))
	}
	p, _ := s.Producer(4)
	if p.Epoch != 1 || len(p.Batches) != 1 || p.Batches[0].FirstOffset != 3 {
		t.Fatalf("producer %+v", p)
	}
}
