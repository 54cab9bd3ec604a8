package partition

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// writeLayout writes, at offsets 0-10:
//
//	0 pid1 txn a1   1 plain p1   2 pid2 txn c2   3 pid1 txn a1b   4 ABORT pid1
//	5 COMMIT pid2   6 pid3 txn a3   7 plain p2   8 ABORT pid3   9 pid4 txn open4
//	10 plain p3
//
// so the LSO is 9 (pid4's open transaction) and the high watermark 11.
func writeLayout(t *testing.T, p *Partition) {
	t.Helper()
	mustAppendTxn(t, p, 1, 0, 0, "a1")
	mustAppendBatch(t, p, nil, "p1")
	mustAppendTxn(t, p, 2, 0, 0, "c2")
	mustAppendTxn(t, p, 1, 0, 1, "a1b")
	mustMarker(t, p, 1, 0, false)
	mustMarker(t, p, 2, 0, true)
	mustAppendTxn(t, p, 3, 0, 0, "a3")
	mustAppendBatch(t, p, nil, "p2")
	mustMarker(t, p, 3, 0, false)
	mustAppendTxn(t, p, 4, 0, 0, "open4")
	mustAppendBatch(t, p, nil, "p3")
}

var layoutAborted = []AbortedTxn{{ProducerID: 1, FirstOffset: 0, LastOffset: 4}, {ProducerID: 3, FirstOffset: 6, LastOffset: 8}}

func TestLastStableOffsetFollowsOpenTransactions(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	check := func(step string, wantLSO, wantHW int64) {
		t.Helper()
		if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != wantLSO || hw != wantHW {
			t.Fatalf("%s: lso %d hw %d, want %d %d", step, lso, hw, wantLSO, wantHW)
		}
	}
	mustAppendBatch(t, p, nil, "plain")
	check("no transaction", 1, 1)
	mustAppendTxn(t, p, 1, 0, 0, "t1")
	check("transaction opened", 1, 2)
	// Other producers write on; the LSO stays at the first open transaction.
	mustAppendBatch(t, p, nil, "plain")
	mustAppendBatch(t, p, &records.ProducerFields{ID: 7, Epoch: 0, BaseSequence: 0}, "idempotent")
	mustAppendTxn(t, p, 1, 0, 1, "t1 again")
	mustAppendTxn(t, p, 2, 0, 0, "t2")
	check("other producers wrote", 1, 6)

	changed := p.Changed()
	mustMarker(t, p, 1, 0, true)
	select {
	case <-changed:
	default:
		t.Fatal("Changed did not fire when the LSO moved")
	}
	check("first transaction committed", 5, 7)
	mustMarker(t, p, 2, 0, false)
	check("second transaction aborted", 8, 8)
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, []AbortedTxn{{2, 5, 7}}) {
		t.Fatalf("aborted index %v", got)
	}
}

// TestLSOWaitsForTheDurableMarker checks that a transaction keeps holding the LSO back
// until its marker is below the high watermark (Kafka's unreplicated transactions).
func TestLSOWaitsForTheDurableMarker(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	mustAppendTxn(t, p, 1, 0, 0, "t1")
	p.syncMu.Lock() // hold the group commit back
	res, err := p.AppendMarker(1, 0, true, 0)
	lso, hw := p.LastStableOffset(), p.HighWatermark()
	p.syncMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if lso != 0 || hw != 1 {
		t.Fatalf("before the marker is durable: lso %d hw %d, want 0 1", lso, hw)
	}
	durable(t, p, res)
	if lso := p.LastStableOffset(); lso != 2 {
		t.Fatalf("after: lso %d, want 2", lso)
	}
}

func TestReadCommittedStopsAtTheLSO(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	writeLayout(t, p)
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != 9 || hw != 11 {
		t.Fatalf("lso %d hw %d, want 9 11", lso, hw)
	}
	for _, tc := range []struct {
		name        string
		offset      int64
		maxBytes    int
		wantOffsets []int64
		wantAborted []AbortedTxn
	}{
		{"everything", 0, 1 << 20, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8}, layoutAborted},
		// The first transaction's marker (4) is below the fetch offset: not returned.
		{"after the first abort", 5, 1 << 20, []int64{5, 6, 7, 8}, layoutAborted[1:]},
		// The data ends at 1, before pid3's transaction begins.
		{"one batch", 0, 1, []int64{0}, layoutAborted[:1]},
		// Its first offset (6) is beyond the fetch offset but inside the data.
		{"one batch inside the second abort", 6, 1, []int64{6}, layoutAborted[1:]},
		{"from the middle of the first", 2, 1, []int64{2}, layoutAborted[:1]},
		{"at the LSO", 9, 1 << 20, nil, nil},
		{"past the LSO", 10, 1 << 20, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			batches, lso, aborted := readCommitted(t, p, tc.offset, tc.maxBytes)
			if lso != 9 {
				t.Fatalf("lso %d", lso)
			}
			if got := baseOffsets(batches); !reflect.DeepEqual(got, tc.wantOffsets) {
				t.Fatalf("batches at %v, want %v", got, tc.wantOffsets)
			}
			if !reflect.DeepEqual(aborted, tc.wantAborted) {
				t.Fatalf("aborted %v, want %v", aborted, tc.wantAborted)
			}
		})
	}
	batches, _, aborted := readCommitted(t, p, 0, 1<<20)
	if got := consume(batches, aborted); !reflect.DeepEqual(got, []string{"p1", "c2", "p2"}) {
		t.Fatalf("a read_committed consumer gets %v", got)
	}
	// read_uncommitted still reads up to the high watermark.
	chunks, hw, err := p.Read(0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer chunks.Release()
	if got := decodeChunks(t, chunks.ReadInto); hw != 11 || len(got) != 11 {
		t.Fatalf("read_uncommitted: hw %d, %d batches", hw, len(got))
	}
}

func TestMarkerEpochFencing(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	mustAppendTxn(t, p, 5, 2, 0, "e2")
	if _, err := p.AppendMarker(5, 1, false, 0); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("marker from an older epoch: %v, want INVALID_PRODUCER_EPOCH", err)
	}
	if lso := p.LastStableOffset(); lso != 0 {
		t.Fatalf("a refused marker moved the lso to %d", lso)
	}
	// The coordinator aborts with a bumped epoch, fencing the producer's epoch 2.
	res, err := p.AppendMarker(5, 3, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	durable(t, p, res)
	if _, err := p.Append(txnBatch(t, 5, 2, 1, "zombie")); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("batch from the fenced epoch: %v, want INVALID_PRODUCER_EPOCH", err)
	}
	// A coordinator older than the last marker's is fenced too.
	if _, err := p.AppendMarker(5, 3, true, 0); !errors.Is(err, kerr.TransactionCoordinatorFenced) {
		t.Fatalf("marker from an older coordinator: %v, want TRANSACTION_COORDINATOR_FENCED", err)
	}
	// The new epoch starts at sequence 0.
	mustAppendTxn(t, p, 5, 3, 0, "e3")
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, []AbortedTxn{{5, 0, 1}}) {
		t.Fatalf("aborted index %v", got)
	}
	if lso := p.LastStableOffset(); lso != 2 {
		t.Fatalf("lso %d, want 2 (the new transaction)", lso)
	}
}

func TestMarkerWithoutOpenTransaction(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	mustAppendTxn(t, p, 1, 0, 0, "open")
	for i, commit := range []bool{false, true} {
		res := mustMarker(t, p, 42, 0, commit)
		if res.BaseOffset != int64(1+i) {
			t.Fatalf("marker at %d, want %d", res.BaseOffset, 1+i)
		}
	}
	if lso, got := p.LastStableOffset(), p.aborted.snapshot(); lso != 0 || len(got) != 0 {
		t.Fatalf("lso %d, aborted %v; want 0 and none", lso, got)
	}
	batches, _, _ := readCommitted(t, p, 0, 1<<20)
	if len(batches) != 0 {
		t.Fatalf("read %d batches below an lso of 0", len(batches))
	}
}

func TestAppendCoordinatorSkipsSequenceChecks(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	for i := range 3 {
		b, h := txnBatch(t, 9, 1, -1, fmt.Sprint("offset commit ", i))
		res, err := p.AppendCoordinator(b, h)
		if err != nil || res.Duplicate || res.BaseOffset != int64(i) {
			t.Fatalf("coordinator batch %d: %+v, %v", i, res, err)
		}
		durable(t, p, res)
	}
	if lso := p.LastStableOffset(); lso != 0 {
		t.Fatalf("lso %d, want 0: the coordinator's batches are part of the transaction", lso)
	}
	// The client path still checks sequences.
	if _, err := p.Append(txnBatch(t, 8, 0, 0, "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Append(txnBatch(t, 8, 0, 5, "gap")); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("client sequence gap: %v", err)
	}
	// The epoch is still checked.
	if _, err := p.AppendCoordinator(txnBatch(t, 9, 0, -1, "fenced")); !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Fatalf("coordinator batch from an old epoch: %v", err)
	}
	mustMarker(t, p, 9, 1, true)
	if lso := p.LastStableOffset(); lso != 3 {
		t.Fatalf("lso %d after the commit, want 3 (producer 8's transaction)", lso)
	}
}

func TestClientControlBatchesAreRefused(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	b := records.ControlBatch(1, 0, false, 0, time.Now().UnixMilli())
	h, _ := records.ParseHeader(b)
	if _, err := p.Append(b, h); !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("client marker: %v, want INVALID_RECORD", err)
	}
	if _, err := p.AppendCoordinator(b, h); !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("coordinator marker through AppendCoordinator: %v, want INVALID_RECORD", err)
	}
}

func TestExpiryKeepsOpenTransactions(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p, err := Open(Config{Topic: "t", FS: vfs.NewMem(), Dir: "/data/t-0", Log: wlog.DefaultConfig(),
		DurableAcks: true, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	mustAppendTxn(t, p, 1, 0, 0, "open")
	mustAppendBatch(t, p, &records.ProducerFields{ID: 2, Epoch: 0, BaseSequence: 0}, "idle")
	mustAppendTxn(t, p, 3, 0, 0, "ended")
	mustMarker(t, p, 3, 0, true)
	mu.Lock()
	now = now.Add(48 * time.Hour)
	mu.Unlock()
	if err := p.Maintain(86400000); err != nil {
		t.Fatal(err)
	}
	p.appendMu.Lock()
	_, kept := p.producers.Producer(1)
	_, idle := p.producers.Producer(2)
	_, ended := p.producers.Producer(3)
	p.appendMu.Unlock()
	if !kept || idle || ended {
		t.Fatalf("after expiry: open %v, idle %v, ended %v; want only the open one kept", kept, idle, ended)
	}
	if lso := p.LastStableOffset(); lso != 0 {
		t.Fatalf("lso %d, want 0", lso)
	}
	mustMarker(t, p, 1, 0, false)
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, []AbortedTxn{{1, 0, 4}}) {
		t.Fatalf("aborted %v", got)
	}
}

func TestTruncateReopensTransactions(t *testing.T) {
	fs := vfs.NewMem()
	p := open(t, fs)
	writeLayout(t, p)
	// Cut pid3's abort marker (8) off: its transaction is open again.
	if err := p.Truncate(8); err != nil {
		t.Fatal(err)
	}
	if got, want := stateOf(p), (txnState{hw: 8, lso: 6, aborted: layoutAborted[:1], open: "[{3 6}]"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after truncation to 8: %v, want %v", got, want)
	}
	batches, lso, aborted := readCommitted(t, p, 0, 1<<20)
	if lso != 6 || len(batches) != 6 || !reflect.DeepEqual(aborted, layoutAborted[:1]) {
		t.Fatalf("read committed: lso %d, %d batches, aborted %v", lso, len(batches), aborted)
	}
	// The coordinator retries the marker.
	mustMarker(t, p, 3, 0, false)
	if got := stateOf(p); got.lso != 9 || !reflect.DeepEqual(got.aborted, layoutAborted) {
		t.Fatalf("after the new marker: %v", got)
	}
	// Past a clean restart's snapshot too.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = open(t, fs)
	defer p.Close()
	if err := p.Truncate(3); err != nil {
		t.Fatal(err)
	}
	if got, want := stateOf(p), (txnState{hw: 3, lso: 0, open: "[{1 0} {2 2}]"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after truncation to 3: %v, want %v", got, want)
	}
}

func TestDeleteBeforeTrimsTheAbortedIndex(t *testing.T) {
	fs := vfs.NewMem()
	p := open(t, fs)
	writeLayout(t, p)
	if err := p.DeleteBefore(5); err != nil {
		t.Fatal(err)
	}
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, layoutAborted[1:]) {
		t.Fatalf("after DeleteBefore(5): %v", got)
	}
	// An entry straddling the log start stays.
	if err := p.DeleteBefore(7); err != nil {
		t.Fatal(err)
	}
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, layoutAborted[1:]) {
		t.Fatalf("after DeleteBefore(7): %v", got)
	}
	mustMarker(t, p, 4, 0, false) // the index is still appendable after the rewrite
	want := append(layoutAborted[1:], AbortedTxn{4, 9, 11})
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after another abort: %v", got)
	}
	crashed := fs.CrashClone()
	p.Close()
	p = open(t, crashed)
	defer p.Close()
	if got := p.aborted.snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a crash: %v, want %v", got, want)
	}
}

// TestReadCommittedNeverShowsAbortedRecords runs transactional producers, each deciding
// up front whether it will commit or abort, beside a read_committed consumer that
// filters as Kafka clients do: it must never get an aborted record, and in the end it
// gets every committed one, in order.
func TestReadCommittedNeverShowsAbortedRecords(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	const producersN, txns = 4, 25
	var wg sync.WaitGroup
	for pid := int64(1); pid <= producersN; pid++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq := int32(0)
			for n := range txns {
				commit := (n+int(pid))%3 != 0
				for i := range 2 {
					b, h := txnBatch(t, pid, 0, seq, fmt.Sprintf("%v/%d/%d/%d", commit, pid, n, i))
					seq++
					if _, err := p.Append(b, h); err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := p.AppendMarker(pid, 0, commit, 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	var got []string
	offset := int64(0)
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		for {
			batches, lso, aborted := readCommitted(t, p, offset, 4096)
			if len(batches) == 0 {
				break
			}
			for _, b := range batches {
				if b.h.LastOffset() >= lso {
					t.Fatalf("read batch at %d at or past the lso %d", b.h.BaseOffset, lso)
				}
			}
			for _, v := range consume(batches, aborted) {
				if v[0] != 't' {
					t.Fatalf("read_committed consumer got aborted record %q", v)
				}
				got = append(got, v)
			}
			offset = batches[len(batches)-1].h.LastOffset() + 1
		}
		// Done once every marker is durable (the LSO reached the log end) and read.
		if lso := p.LastStableOffset(); finished && lso == p.Log().EndOffset() && offset >= lso {
			break
		}
		time.Sleep(time.Millisecond)
	}
	want := 0
	for pid := 1; pid <= producersN; pid++ {
		for n := range txns {
			if (n+pid)%3 != 0 {
				want += 2
			}
		}
	}
	if len(got) != want || p.LastStableOffset() != p.HighWatermark() {
		t.Fatalf("got %d committed records, want %d; lso %d hw %d", len(got), want, p.LastStableOffset(), p.HighWatermark())
	}
}

// TestLSONeverBelowTheLogStart deletes the start of an open transaction: as in Kafka the
// LSO then waits at the log start, not below it.
func TestLSONeverBelowTheLogStart(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	mustAppendTxn(t, p, 1, 0, 0, "t")
	mustAppendBatch(t, p, nil, "p1")
	mustAppendBatch(t, p, nil, "p2")
	changed := p.Changed()
	if err := p.DeleteBefore(2); err != nil {
		t.Fatal(err)
	}
	<-changed
	if lso := p.LastStableOffset(); lso != 2 {
		t.Fatalf("lso %d, want the log start 2", lso)
	}
}

// TestTransactionsWithoutDurableAcks runs the same steps in Kafka's page-cache mode,
// where appends are exposed at once.
func TestTransactionsWithoutDurableAcks(t *testing.T) {
	fs := vfs.NewMem()
	p, err := Open(Config{Topic: "t", FS: fs, Dir: testDir, Log: wlog.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	writeLayout(t, p)
	want := txnState{hw: 11, lso: 9, aborted: layoutAborted, open: "[{4 9}]"}
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p, err = Open(Config{Topic: "t", FS: fs, Dir: testDir, Log: wlog.DefaultConfig()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a restart: %v, want %v", got, want)
	}
}
