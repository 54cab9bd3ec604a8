package log

import (
	"fmt"
	"sync"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

// Chunk is a byte range of a segment file holding whole batches.
type Chunk struct {
	File vfs.File
	Pos  int64
	Len  int
}

// Chunks is the result of Read: whole batches as file ranges, in offset order. The files
// stay readable, even if the segments are deleted meanwhile, until Release. The holder
// may ReadAt the ranges (or sendfile them when File is a vfs.FDFile) but must not write.
type Chunks struct {
	List []Chunk
	Size int // total bytes

	once sync.Once
	segs []*segment // references held until Release
}

// Release lets the log close the files of deleted segments. It is idempotent; the
// chunks must not be used afterwards.
func (c *Chunks) Release() {
	c.once.Do(func() {
		for _, s := range c.segs {
			s.release()
		}
		c.segs = nil
	})
}

// ReadInto appends the bytes of all chunks to dst and returns it.
func (c *Chunks) ReadInto(dst []byte) ([]byte, error) {
	for _, ch := range c.List {
		n := len(dst)
		dst = append(dst, make([]byte, ch.Len)...)
		if _, err := ch.File.ReadAt(dst[n:], ch.Pos); err != nil {
			return dst[:n], fmt.Errorf("log: read %s: %w", ch.File.Name(), err)
		}
	}
	return dst, nil
}

// Read returns whole batches starting with the one holding offset, none with a base
// offset >= limit (the high watermark, exclusive), stopping before the total exceeds
// maxBytes, except that the first batch is returned whatever its size (KIP-74). It
// fails with ErrOffsetOutOfRange if offset < StartOffset or offset > EndOffset; at
// EndOffset, or at or past limit, it returns no chunks. Release the result.
func (l *Log) Read(offset int64, maxBytes int, limit int64) (*Chunks, error) {
	c := &Chunks{}
	v, ok, err := l.firstView(offset)
	if err != nil || !ok || offset >= limit {
		if ok {
			v.seg.release()
		}
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	for {
		next, done, err := c.addFromView(v, offset, maxBytes, limit)
		if err != nil {
			v.seg.release()
			c.Release()
			return nil, err
		}
		if len(c.List) > 0 && c.List[len(c.List)-1].File == v.seg.log {
			c.segs = append(c.segs, v.seg) // keep the reference with the chunk
		} else {
			v.seg.release()
		}
		if done {
			return c, nil
		}
		offset = next
		if v, ok = l.viewAfter(v.seg.base); !ok {
			return c, nil
		}
	}
}

// firstView returns a referenced view of the segment holding offset, after checking the
// offset is in range; ok is false when offset is the end offset.
func (l *Log) firstView(offset int64) (view, bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return view{}, false, ErrClosed
	}
	end := l.activeLocked().next
	if offset < l.start || offset > end {
		return view{}, false, fmt.Errorf("%w: %d not in [%d, %d]", ErrOffsetOutOfRange, offset, l.start, end)
	}
	if offset == end {
		return view{}, false, nil
	}
	s := l.segs[l.segmentIndexLocked(offset)]
	s.acquire()
	return s.viewLocked(), true, nil
}

// viewAfter returns a referenced view of the segment following the one based at base.
func (l *Log) viewAfter(base int64) (view, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return view{}, false
	}
	i := l.segmentIndexLocked(base) + 1
	if i >= len(l.segs) || l.segs[i].base <= base {
		return view{}, false
	}
	l.segs[i].acquire()
	return l.segs[i].viewLocked(), true
}

// segmentIndexLocked returns the index of the last segment with base <= offset (0 if
// none).
func (l *Log) segmentIndexLocked(offset int64) int {
	lo, hi := 0, len(l.segs)
	for lo < hi {
		m := (lo + hi) / 2
		if l.segs[m].base <= offset {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

// addFromView adds the batches of v that Read's rules allow. done is true when the read
// is complete; otherwise it continues at next in the following segment.
func (c *Chunks) addFromView(v view, offset int64, maxBytes int, limit int64) (next int64, done bool, err error) {
	r := newBatchReader(v.seg.log, v.size, lookupWindow)
	pos, first, found, err := v.locate(r, offset)
	if err != nil {
		return 0, false, err
	}
	if !found {
		return v.next, v.next >= limit, nil
	}
	end := v.size
	if limit < v.next { // stop before the first batch based at or after limit
		p, h, found, err := v.scanFromIndex(r, limit, func(h records.Header) bool { return h.LastOffset() >= limit })
		if err != nil {
			return 0, false, err
		}
		if found {
			end = p
			if h.BaseOffset < limit {
				end = p + int64(h.Size())
			}
		}
	}
	if budget := int64(maxBytes - c.Size); end-pos > budget {
		end, err = v.boundaryAtOrBefore(r, pos, pos+budget, end)
		if err != nil {
			return 0, false, err
		}
		if end == pos && len(c.List) == 0 { // KIP-74: the first batch goes out whole
			end = pos + int64(first.Size())
		}
	}
	if end > pos {
		c.List = append(c.List, Chunk{File: v.seg.log, Pos: pos, Len: int(end - pos)})
		c.Size += int(end - pos)
	}
	// Continue into the next segment only if this one was used up below the limit.
	return v.next, end < v.size || v.next >= limit, nil
}

// scanFromIndex jumps with the offset index close to offset and scans from there.
func (v view) scanFromIndex(r *batchReader, offset int64, stop func(records.Header) bool) (int64, records.Header, bool, error) {
	_, from, err := floorOffset(v.idx, v.seg.relative(max(offset, v.seg.base)))
	if err != nil {
		return 0, records.Header{}, false, err
	}
	return v.scanTo(r, from, stop)
}

// boundaryAtOrBefore returns the largest batch boundary in [start, min(limit, end)],
// jumping with the offset index by position.
func (v view) boundaryAtOrBefore(r *batchReader, start, limit, end int64) (int64, error) {
	limit = min(limit, end)
	p, err := floorPosition(v.idx, limit)
	if err != nil {
		return 0, err
	}
	p = max(p, start)
	for p < end {
		h, err := r.header(p)
		if err != nil {
			return 0, err
		}
		if p+int64(h.Size()) > limit {
			break
		}
		p += int64(h.Size())
	}
	return p, nil
}

// Scan calls fn for every batch from the one holding from to the end offset at the
// time of the call, in order. batch is valid only during the call. An error from fn
// stops the scan and is returned.
func (l *Log) Scan(from int64, fn func(h records.Header, batch []byte) error) error {
	end := l.EndOffset()
	var buf []byte
	for from < end {
		c, err := l.Read(from, 1<<20, end)
		if err != nil {
			return err
		}
		buf, err = c.ReadInto(buf[:0])
		c.Release()
		if err != nil {
			return err
		}
		if len(buf) == 0 {
			return nil
		}
		for b := buf; len(b) > 0; {
			h, err := records.ParseHeader(b)
			if err != nil || h.Size() > len(b) {
				return fmt.Errorf("%w: scanning at offset %d: %v", ErrBadBatchHeader, from, err)
			}
			if err := fn(h, b[:h.Size()]); err != nil {
				return err
			}
			from = h.LastOffset() + 1
			b = b[h.Size():]
		}
	}
	return nil
}
