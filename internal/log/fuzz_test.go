package log

import (
	"math"
	"testing"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// validPrefix is an independent statement of the recovery rule: the longest prefix of
// whole batches, each with a good header, CRC and offsets above the previous batch's
// (compaction leaves gaps).
func validPrefix(b []byte) int {
	pos, next := 0, int64(0)
	for {
		h, err := records.ParseHeader(b[pos:])
		if err != nil || h.Size() > len(b)-pos || h.BaseOffset < next || h.LastOffsetDelta < 0 ||
			h.LastOffset() > math.MaxInt32 || records.CheckCRC(b[pos:], h) != nil {
			return pos
		}
		pos += h.Size()
		next = h.LastOffset() + 1
	}
}

// FuzzRecover writes arbitrary bytes as a segment and opens the log: Open must not
// panic, must cut the segment exactly at the first invalid batch, and must serve only
// valid batches.
func FuzzRecover(f *testing.F) {
	var valid []byte
	for i := 0; i < 3; i++ {
		b := makeBatch(1+i, 20, int64(i))
		records.SetBaseOffset(b, int64(i*(i+1)/2)) // 0, 1, 3: each after the last
		valid = append(valid, b...)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-7])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, segment []byte) {
		fs := vfs.NewMem()
		if err := fs.MkdirAll(testDir); err != nil {
			t.Fatal(err)
		}
		name := dirPath(testDir, "00000000000000000000.log")
		rewriteFile(t, fs, name, segment)
		cfg := DefaultConfig()
		cfg.Logger = discardLogger
		cfg.IndexIntervalBytes = 64
		l, err := Open(fs, testDir, cfg, nil)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		defer l.Close()
		want := validPrefix(segment)
		if got := len(readAllFile(t, fs, name)); got != want {
			t.Fatalf("segment cut at %d, valid prefix is %d", got, want)
		}
		if _, size := readHeadersWithGaps(t, l, 0, 1<<30, 1<<40); size != want {
			t.Fatalf("served %d bytes, valid prefix is %d", size, want)
		}
		for off := int64(0); off < min(l.EndOffset(), 1000); off++ {
			if hs, _ := readHeadersWithGaps(t, l, off, 1, 1<<40); len(hs) != 1 || hs[0].LastOffset() < off {
				t.Fatalf("offset %d: %+v", off, hs)
			}
		}
	})
}
