package partition

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/records"
)

// txnBatch builds a transactional batch of producer pid at epoch, starting at sequence
// seq (-1 for a coordinator's batch).
func txnBatch(t *testing.T, pid int64, epoch int16, seq int32, values ...string) ([]byte, records.Header) {
	t.Helper()
	recs := make([]records.Record, len(values))
	for i, v := range values {
		recs[i] = records.Record{Value: []byte(v)}
	}
	b := records.Build(records.BuildOptions{
		BaseTimestamp: time.Now().UnixMilli(),
		Producer:      &records.ProducerFields{ID: pid, Epoch: epoch, BaseSequence: seq},
		Transactional: true,
	}, recs)
	h, err := records.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, h
}

func durable(t *testing.T, p *Partition, res AppendResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitDurable(ctx, res.LastOffset+1); err != nil {
		t.Fatal(err)
	}
}

// mustAppend appends and waits until the batch is durable.
func mustAppend(t *testing.T, p *Partition, b []byte, h records.Header) AppendResult {
	t.Helper()
	res, err := p.Append(b, h)
	if err != nil {
		t.Fatalf("append of producer %d seq %d: %v", h.ProducerID, h.BaseSequence, err)
	}
	durable(t, p, res)
	return res
}

func mustAppendTxn(t *testing.T, p *Partition, pid int64, epoch int16, seq int32, values ...string) AppendResult {
	t.Helper()
	b, h := txnBatch(t, pid, epoch, seq, values...)
	return mustAppend(t, p, b, h)
}

func mustAppendBatch(t *testing.T, p *Partition, producer *records.ProducerFields, values ...string) AppendResult {
	t.Helper()
	b, h := batch(t, producer, values...)
	return mustAppend(t, p, b, h)
}

func mustMarker(t *testing.T, p *Partition, pid int64, epoch int16, commit bool) AppendResult {
	t.Helper()
	res, err := p.AppendMarker(pid, epoch, commit, 0)
	if err != nil {
		t.Fatalf("marker for producer %d: %v", pid, err)
	}
	durable(t, p, res)
	return res
}

// fetched is one batch a read returned.
type fetched struct {
	h      records.Header
	values []string
}

// readCommitted reads everything below the LSO from offset, one ReadCommitted call.
func readCommitted(t *testing.T, p *Partition, offset int64, maxBytes int) ([]fetched, int64, []AbortedTxn) {
	t.Helper()
	chunks, lso, aborted, err := p.ReadCommitted(offset, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	defer chunks.Release()
	return decodeChunks(t, chunks.ReadInto), lso, aborted
}

func decodeChunks(t *testing.T, readInto func([]byte) ([]byte, error)) []fetched {
	t.Helper()
	buf, err := readInto(nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []fetched
	for len(buf) > 0 {
		h, err := records.ParseHeader(buf)
		if err != nil {
			t.Fatal(err)
		}
		f := fetched{h: h}
		if err := records.Iterate(buf[:h.Size()], func(r records.Record) error {
			f.values = append(f.values, string(r.Value))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
		buf = buf[h.Size():]
	}
	return out
}

// consume filters fetched batches as a read_committed Kafka client does with the
// response's aborted transactions: a transactional batch of a producer whose aborted
// transaction began at or before the batch is dropped until that producer's marker.
func consume(batches []fetched, aborted []AbortedTxn) []string {
	queue := slices.Clone(aborted)
	abortedProducers := map[int64]bool{}
	var values []string
	for _, b := range batches {
		for len(queue) > 0 && queue[0].FirstOffset <= b.h.LastOffset() {
			abortedProducers[queue[0].ProducerID] = true
			queue = queue[1:]
		}
		if b.h.IsControl() {
			delete(abortedProducers, b.h.ProducerID)
			continue
		}
		if b.h.IsTransactional() && abortedProducers[b.h.ProducerID] {
			continue
		}
		values = append(values, b.values...)
	}
	return values
}

func baseOffsets(batches []fetched) []int64 {
	var offs []int64
	for _, b := range batches {
		offs = append(offs, b.h.BaseOffset)
	}
	return offs
}

// txnState is what must survive a restart.
type txnState struct {
	hw, lso int64
	aborted []AbortedTxn
	open    string
}

func stateOf(p *Partition) txnState {
	p.appendMu.Lock()
	open := fmt.Sprint(p.producers.OpenTxns())
	p.appendMu.Unlock()
	return txnState{hw: p.HighWatermark(), lso: p.LastStableOffset(), aborted: p.aborted.snapshot(), open: open}
}

func (s txnState) String() string {
	return fmt.Sprintf("hw %d lso %d aborted %v open %s", s.hw, s.lso, s.aborted, s.open)
}
