package partition

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

func open(t *testing.T, fs vfs.FS) *Partition {
	t.Helper()
	p, err := Open(Config{Topic: "t", Index: 0, FS: fs, Dir: "/data/t-0", Log: wlog.DefaultConfig(), DurableAcks: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func batch(t *testing.T, producer *records.ProducerFields, values ...string) ([]byte, records.Header) {
	t.Helper()
	recs := make([]records.Record, len(values))
	for i, v := range values {
		recs[i] = records.Record{Value: []byte(v)}
	}
	b := records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli(), Producer: producer}, recs)
	h, err := records.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return b, h
}

// TestGroupCommitAcksOnlyDurableData appends from many goroutines; each waits for its own
// batch to be durable, and the high watermark never passes what was synced.
func TestGroupCommitAcksOnlyDurableData(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				b, h := batch(t, nil, fmt.Sprintf("%d-%d", g, i))
				res, err := p.Append(b, h)
				if err != nil {
					t.Error(err)
					return
				}
				if err := p.WaitDurable(ctx, res.LastOffset+1); err != nil {
					t.Error(err)
					return
				}
				if hw, durable := p.HighWatermark(), p.Log().DurableEnd(); hw > durable || hw <= res.LastOffset {
					t.Errorf("after ack of %d: hw %d durable %d", res.LastOffset, hw, durable)
				}
			}
		}()
	}
	wg.Wait()
	if hw := p.HighWatermark(); hw != 400 {
		t.Fatalf("high watermark %d, want 400", hw)
	}
}

// TestIdempotentRetryAcrossRestart checks that a retried batch gets its original offset,
// before and after a clean restart (producer snapshot) and after a crash (log replay).
func TestIdempotentRetryAcrossRestart(t *testing.T) {
	fs := vfs.NewMem()
	p := open(t, fs)
	pid := &records.ProducerFields{ID: 7, Epoch: 0, BaseSequence: 0}
	first, h1 := batch(t, pid, "a", "b")
	res, err := p.Append(append([]byte(nil), first...), h1)
	if err != nil || res.BaseOffset != 0 {
		t.Fatalf("first append: %+v %v", res, err)
	}
	dup, err := p.Append(append([]byte(nil), first...), h1)
	if err != nil || !dup.Duplicate || dup.BaseOffset != 0 {
		t.Fatalf("retry before restart: %+v %v", dup, err)
	}
	gap, hg := batch(t, &records.ProducerFields{ID: 7, Epoch: 0, BaseSequence: 5}, "x")
	if _, err := p.Append(gap, hg); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("sequence gap: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	p = open(t, fs)
	dup, err = p.Append(append([]byte(nil), first...), h1)
	if err != nil || !dup.Duplicate || dup.BaseOffset != 0 {
		t.Fatalf("retry after clean restart: %+v %v", dup, err)
	}
	second, h2 := batch(t, &records.ProducerFields{ID: 7, Epoch: 0, BaseSequence: 2}, "c")
	res, err = p.Append(append([]byte(nil), second...), h2)
	if err != nil || res.BaseOffset != 2 {
		t.Fatalf("next batch: %+v %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WaitDurable(ctx, res.LastOffset+1); err != nil {
		t.Fatal(err)
	}

	crashed := fs.CrashClone() // no Close: no snapshot of the second batch
	p.Close()
	p = open(t, crashed)
	defer p.Close()
	dup, err = p.Append(append([]byte(nil), second...), h2)
	if err != nil || !dup.Duplicate || dup.BaseOffset != 2 {
		t.Fatalf("retry after crash: %+v %v", dup, err)
	}
}
