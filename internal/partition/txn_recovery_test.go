package partition

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"

	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/vfs"
)

const testDir = "/data/t-0"

// history writes the layout, restarts cleanly (a producer snapshot at 11), then adds
//
//	11 pid5 txn   12 COMMIT pid4   13 ABORT pid5   14 pid6 txn (open)
//
// and returns the still-running partition's filesystem and its transactional state.
func history(t *testing.T) (*vfs.MemFS, *Partition, txnState) {
	t.Helper()
	fs := vfs.NewMem()
	p := open(t, fs)
	writeLayout(t, p)
	before := stateOf(p)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = open(t, fs)
	if got := stateOf(p); !reflect.DeepEqual(got, before) {
		t.Fatalf("after a clean restart: %v, want %v", got, before)
	}
	mustAppendTxn(t, p, 5, 0, 0, "a5")
	mustMarker(t, p, 4, 0, true)
	mustMarker(t, p, 5, 0, false)
	mustAppendTxn(t, p, 6, 0, 0, "open6")
	want := txnState{hw: 15, lso: 14, open: "[{6 14}]",
		aborted: append(append([]AbortedTxn(nil), layoutAborted...), AbortedTxn{5, 11, 13})}
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("history: %v, want %v", got, want)
	}
	return fs, p, want
}

func TestTxnStateSurvivesCleanRestart(t *testing.T) {
	fs, p, want := history(t)
	wantBatches, _, wantAborted := readCommitted(t, p, 0, 1<<20)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = open(t, fs)
	defer p.Close()
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a clean restart: %v, want %v", got, want)
	}
	batches, _, aborted := readCommitted(t, p, 0, 1<<20)
	if !reflect.DeepEqual(baseOffsets(batches), baseOffsets(wantBatches)) || !reflect.DeepEqual(aborted, wantAborted) {
		t.Fatalf("read committed differs after the restart: %v %v", baseOffsets(batches), aborted)
	}
}

func TestTxnStateSurvivesCrash(t *testing.T) {
	fs, p, want := history(t)
	crashed := fs.CrashClone() // the snapshot is at 11: 11-14 are replayed
	p.Close()
	p = open(t, crashed)
	defer p.Close()
	if got := stateOf(p); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a crash: %v, want %v", got, want)
	}
	// The recovered partition goes on: the open transaction ends.
	mustMarker(t, p, 6, 0, false)
	if got := stateOf(p); got.lso != 16 || len(got.aborted) != 4 {
		t.Fatalf("after the last abort: %v", got)
	}
}

// TestCrashBeforeTheMarkerIsDurable loses an abort marker that was appended but never
// synced: the transaction is open again and the index holds nothing for it.
func TestCrashBeforeTheMarkerIsDurable(t *testing.T) {
	fs := vfs.NewMem()
	p := open(t, fs)
	mustAppendTxn(t, p, 1, 0, 0, "t")
	p.syncMu.Lock() // no group commit: the marker stays in the page cache
	_, err := p.AppendMarker(1, 0, false, 0)
	crashed := fs.CrashClone()
	p.syncMu.Unlock()
	p.Close()
	if err != nil {
		t.Fatal(err)
	}
	p = open(t, crashed)
	defer p.Close()
	if got, want := stateOf(p), (txnState{hw: 1, lso: 0, open: "[{1 0}]"}); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the crash: %v, want %v", got, want)
	}
}

func TestAbortedIndexDamageIsRepaired(t *testing.T) {
	fs, p, want := history(t)
	base := fs.CrashClone()
	p.Close()
	path := wlog.SegmentPath(testDir, 0, txnIndexSuffix) // the only segment
	resum := func(b []byte, entry int) {
		e := b[abortedIndexHeaderSize+entry*abortedEntrySize:]
		binary.BigEndian.PutUint32(e[24:], crc32.Checksum(e[:24], castagnoli))
	}
	for _, tc := range []struct {
		name string
		edit func(fs vfs.FS)
	}{
		{"torn last entry", func(fs vfs.FS) {
			rewrite(t, fs, path, func(b []byte) []byte { return b[:len(b)-5] })
		}},
		{"flipped bit", func(fs vfs.FS) {
			rewrite(t, fs, path, func(b []byte) []byte { b[abortedIndexHeaderSize+3] ^= 1; return b })
		}},
		{"bad header", func(fs vfs.FS) {
			rewrite(t, fs, path, func(b []byte) []byte { b[4] = 9; return b })
		}},
		{"inconsistent entry", func(fs vfs.FS) {
			rewrite(t, fs, path, func(b []byte) []byte {
				binary.BigEndian.PutUint64(b[abortedIndexHeaderSize+abortedEntrySize+16:], 2)
				resum(b, 1)
				return b
			})
		}},
		{"missing", func(fs vfs.FS) {
			if err := fs.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			damaged := base.CrashClone()
			tc.edit(damaged)
			p := open(t, damaged)
			if got := stateOf(p); !reflect.DeepEqual(got, want) {
				t.Fatalf("after repair: %v, want %v", got, want)
			}
			// The repaired file is what the next start reads.
			crashed := damaged.CrashClone()
			p.Close()
			p = open(t, crashed)
			defer p.Close()
			if got := stateOf(p); !reflect.DeepEqual(got, want) {
				t.Fatalf("after another restart: %v, want %v", got, want)
			}
		})
	}
}

func TestDecodeAbortedIndex(t *testing.T) {
	entries := []AbortedTxn{{1, 0, 4}, {3, 6, 8}}
	good := abortedIndexHeader()
	for _, e := range entries {
		good = encodeAbortedEntry(good, e)
	}
	if got, err := decodeAbortedIndex(good); err != nil || !reflect.DeepEqual(got, entries) {
		t.Fatalf("round trip: %v, %v", got, err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	withEntry := func(e AbortedTxn) []byte { return encodeAbortedEntry(append([]byte(nil), good...), e) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
		kept int
	}{
		{"empty", nil, nil, 0},
		{"short header", good[:5], ErrTxnIndexTorn, 0},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), ErrTxnIndexHeader, 0},
		{"future version", edit(func(b []byte) []byte { b[5] = 2; return b }), ErrTxnIndexHeader, 0},
		{"other entry size", edit(func(b []byte) []byte { b[7] = 32; return b }), ErrTxnIndexHeader, 0},
		{"torn", good[:len(good)-1], ErrTxnIndexTorn, 1},
		{"bit flip", edit(func(b []byte) []byte { b[len(b)-10] ^= 4; return b }), ErrTxnIndexChecksum, 1},
		{"marker not increasing", withEntry(AbortedTxn{5, 7, 8}), ErrTxnIndexMalformed, 2},
		{"first after last", withEntry(AbortedTxn{5, 12, 10}), ErrTxnIndexMalformed, 2},
		{"negative producer", withEntry(AbortedTxn{-1, 9, 10}), ErrTxnIndexMalformed, 2},
	} {
		got, err := decodeAbortedIndex(tc.b)
		if !errors.Is(err, tc.want) || len(got) != tc.kept {
			t.Errorf("%s: %d entries, %v; want %d, %v", tc.name, len(got), err, tc.kept, tc.want)
		}
	}
}

func rewrite(t *testing.T, fs vfs.FS, name string, edit func([]byte) []byte) {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := f.Size()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	w, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write(edit(b)); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
}
