package log

import (
	"fmt"

	"github.com/waybill/waybill/internal/records"
)

// offsetMapBudget bounds the memory of one pass's key → offset map, as Kafka's
// log.cleaner.dedupe.buffer.size does: the map covers whole dirty segments until it
// passes the budget, and the rest waits for the next pass. A variable so tests can
// lower it.
var offsetMapBudget int64 = 64 << 20

// offsetMapEntryOverhead approximates what a map[string]int64 entry costs beyond its
// key's bytes.
const offsetMapEntryOverhead = 48

// buildOffsetMap records the latest offset of every key in the dirty segments. If the
// budget runs out, the pass ends after the segment that crossed it.
func (p *compaction) buildOffsetMap() error {
	p.latest = map[string]int64{}
	var used int64
	for i, v := range p.segs {
		if v.next <= p.firstDirty {
			continue
		}
		err := forEachBatch(v, func(_ int64, h records.Header, batch []byte) error {
			if h.IsControl() {
				return nil
			}
			return records.Iterate(batch, func(r records.Record) error {
				if r.Key == nil {
					return nil
				}
				offset := h.BaseOffset + int64(r.OffsetDelta)
				if _, seen := p.latest[string(r.Key)]; !seen {
					used += int64(len(r.Key)) + offsetMapEntryOverhead
				}
				p.latest[string(r.Key)] = offset
				return nil
			})
		})
		if err != nil {
			return fmt.Errorf("log: compact: reading segment %d: %w", v.seg.base, err)
		}
		if used > offsetMapBudget && i+1 < len(p.segs) {
			p.logger.Info("compaction offset map full; the rest waits for the next pass",
				"segment", v.seg.base, "keys", len(p.latest))
			for _, t := range p.segs[i+1:] {
				t.seg.release()
			}
			p.segs = p.segs[:i+1]
			p.cleanEnd = v.next
			break
		}
	}
	return nil
}

// findProducerLastBatches finds the last batch of each producer in the range, which
// survives even when emptied, unless keep says the producer is no longer tracked.
func (p *compaction) findProducerLastBatches(keep func(int64) bool) error {
	last := map[int64]int64{} // producer id → base offset of its last batch
	for _, v := range p.segs {
		err := forEachHeader(v, func(h records.Header) {
			if h.HasProducer() {
				last[h.ProducerID] = h.BaseOffset
			}
		})
		if err != nil {
			return fmt.Errorf("log: compact: reading segment %d: %w", v.seg.base, err)
		}
	}
	p.keepBatches = map[int64]bool{}
	for id, base := range last {
		if keep == nil || keep(id) {
			p.keepBatches[base] = true
		}
	}
	return nil
}

// forEachHeader calls fn with the header of every batch of sealed segment v.
func forEachHeader(v view, fn func(h records.Header)) error {
	r := newBatchReader(v.seg.log, v.size, recoverWindow)
	for pos := int64(0); pos < v.size; {
		h, err := r.header(pos)
		if err != nil {
			return err
		}
		fn(h)
		pos += int64(h.Size())
	}
	return nil
}

// forEachBatch calls fn with every batch of sealed segment v; batch is valid only
// during the call.
func forEachBatch(v view, fn func(pos int64, h records.Header, batch []byte) error) error {
	r := newBatchReader(v.seg.log, v.size, recoverWindow)
	var buf []byte
	for pos := int64(0); pos < v.size; {
		h, err := r.header(pos)
		if err != nil {
			return err
		}
		if cap(buf) < h.Size() {
			buf = make([]byte, h.Size())
		}
		b := buf[:h.Size()]
		if _, err := v.seg.log.ReadAt(b, pos); err != nil {
			return err
		}
		if err := fn(pos, h, b); err != nil {
			return err
		}
		pos += int64(h.Size())
	}
	return nil
}
