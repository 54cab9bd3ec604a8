package log

import (
	"github.com/waybill/waybill/internal/records"
)

// OffsetForTimestamp returns a copy of the first batch, at or after the log start,
// whose MaxTimestamp is >= ts; ok is false if there is none. The caller finds the exact
// record inside it. It uses the segments' largest timestamps and time indexes, then
// scans forward from the nearest indexed batch.
func (l *Log) OffsetForTimestamp(ts int64) (batch []byte, ok bool, err error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, false, ErrClosed
	}
	start := l.start
	var v view
	for i := l.segmentIndexLocked(start); i < len(l.segs); i++ {
		if s := l.segs[i]; s.maxTs >= ts {
			s.acquire()
			v, ok = s.viewLocked(), true
			break
		}
	}
	l.mu.RUnlock()
	if !ok {
		return nil, false, nil
	}
	defer v.seg.release()

	from := max(start, v.seg.base)
	rel, found, err := floorTimestampBelow(v.tidx, ts)
	if err != nil {
		return nil, false, err
	}
	if found {
		from = max(from, v.seg.base+int64(rel))
	}
	r := newBatchReader(v.seg.log, v.size, lookupWindow)
	pos, h, found, err := v.scanFromIndex(r, from, func(h records.Header) bool {
		return h.LastOffset() >= from && h.MaxTimestamp >= ts
	})
	if err != nil || !found {
		return nil, false, err
	}
	b, err := v.readBatch(pos, h)
	return b, err == nil, err
}

// MaxTimestampBatch returns a copy of the batch holding the log's largest timestamp
// (the earliest such batch on ties), for ListOffsets with the max-timestamp spec
// (KIP-734); ok is false if no batch carries a timestamp. It costs one index lookup:
// every segment tracks its own maximum.
func (l *Log) MaxTimestampBatch() (batch []byte, ok bool, err error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, false, ErrClosed
	}
	var best *segment
	for _, s := range l.segs {
		if s.maxTs >= 0 && (best == nil || s.maxTs > best.maxTs) && s.next > l.start {
			best = s
		}
	}
	if best == nil {
		l.mu.RUnlock()
		return nil, false, nil
	}
	best.acquire()
	v, offset := best.viewLocked(), best.maxTsOffset
	l.mu.RUnlock()
	defer v.seg.release()

	r := newBatchReader(v.seg.log, v.size, lookupWindow)
	pos, h, found, err := v.scanFromIndex(r, offset, func(h records.Header) bool { return h.BaseOffset >= offset })
	if err != nil || !found {
		return nil, false, err
	}
	b, err := v.readBatch(pos, h)
	return b, err == nil, err
}
