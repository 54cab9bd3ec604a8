package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// makeBatch builds a real v2 batch of n records of valueSize bytes each, all with
// timestamp ts. Each value starts with the record's index so tests can tell them apart.
func makeBatch(n, valueSize int, ts int64) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		value := make([]byte, valueSize)
		copy(value, []byte{byte(i), byte(i >> 8)})
		r := kmsg.Record{OffsetDelta: int32(i), Value: value}
		r.Length = int32(len(r.AppendTo(nil)) - 1) // everything after a 1-byte varint 0
		recs = r.AppendTo(recs)
	}
	b := kmsg.RecordBatch{
		FirstOffset:     0,
		Magic:           2,
		LastOffsetDelta: int32(n - 1),
		FirstTimestamp:  ts,
		MaxTimestamp:    ts,
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      int32(n),
		Records:         recs,
	}
	out := b.AppendTo(nil)
	binary.BigEndian.PutUint32(out[8:], uint32(len(out)-12))
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_000)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) ms() int64 { return c.now().UnixMilli() }

// testConfig is a small-segment config with a quiet logger.
func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.SegmentBytes = 16 << 10
	cfg.IndexIntervalBytes = 512
	cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return cfg
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

func mustOpen(t testing.TB, fs vfs.FS, cfg Config, now func() time.Time) *Log {
	t.Helper()
	l, err := Open(fs, "/p/topic-0", cfg, now)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return l
}

// appendN appends count batches of recs records each and returns their base offsets.
func appendN(t testing.TB, l *Log, count, recs, valueSize int, ts int64) []int64 {
	t.Helper()
	var bases []int64
	for i := 0; i < count; i++ {
		res, err := l.Append(makeBatch(recs, valueSize, ts), 7)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		bases = append(bases, res.BaseOffset)
	}
	return bases
}

// readHeaders reads from offset and returns the headers of the batches, checking each
// CRC and the bytes' contiguity.
func readHeaders(t testing.TB, l *Log, offset int64, maxBytes int, limit int64) ([]records.Header, int) {
	t.Helper()
	return readBatchHeaders(t, l, offset, maxBytes, limit, false)
}

// readHeadersWithGaps is readHeaders for compacted logs: offsets need only increase.
func readHeadersWithGaps(t testing.TB, l *Log, offset int64, maxBytes int, limit int64) ([]records.Header, int) {
	t.Helper()
	return readBatchHeaders(t, l, offset, maxBytes, limit, true)
}

func readBatchHeaders(t testing.TB, l *Log, offset int64, maxBytes int, limit int64, gaps bool) ([]records.Header, int) {
	t.Helper()
	c, err := l.Read(offset, maxBytes, limit)
	if err != nil {
		t.Fatalf("read %d: %v", offset, err)
	}
	defer c.Release()
	b, err := c.ReadInto(nil)
	if err != nil {
		t.Fatalf("read into: %v", err)
	}
	if len(b) != c.Size {
		t.Fatalf("size %d, read %d", c.Size, len(b))
	}
	var hs []records.Header
	for len(b) > 0 {
		h, err := records.ParseHeader(b)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		if err := records.CheckCRC(b, h); err != nil {
			t.Fatalf("batch %d: %v", h.BaseOffset, err)
		}
		if len(hs) > 0 && (hs[len(hs)-1].LastOffset()+1 != h.BaseOffset && !gaps ||
			hs[len(hs)-1].LastOffset() >= h.BaseOffset) {
			t.Fatalf("gap: %d after %d", h.BaseOffset, hs[len(hs)-1].LastOffset())
		}
		hs = append(hs, h)
		b = b[h.Size():]
	}
	return hs, c.Size
}

// readAllFile returns a file's contents.
func readAllFile(t testing.TB, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, _ := f.Size()
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return b
}

type recordsHeader = records.Header

func parseHeader(b []byte) (records.Header, error) { return records.ParseHeader(b) }

func newMemFS() *vfs.MemFS { return vfs.NewMem() }

var discardLogger = slog.New(slog.DiscardHandler)
