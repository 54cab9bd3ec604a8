package lab

import "fmt"

// This file checks what the final read says the log took back: offsets that a consumer
// read or an ack named and that no longer hold their value. It looks the offsets up in the
// version order, whose slots keep the final read's value where sources disagree, so an
// offset truncated and written again is seen here as it is by InconsistentOffsets.

// takenBack says how the final read of partition po contradicts value at offset off, ""
// when it does not: it holds another value there, or no record although it covered off
// and had to show that record. s is the send behind the record, nil when none: a
// read_committed final read hides the records of transactions not committed, so their
// absence proves nothing. off must be in the version order.
func (c *checker) takenBack(po *partOrder, off int64, value string, s *Send) string {
	if !po.hasFinal {
		return ""
	}
	sl := &po.slot[po.slots[off]]
	if sl.from == fromFinal {
		if sl.value == value {
			return ""
		}
		return fmt.Sprintf("the final read holds %q there", sl.value)
	}
	if po.finalRC && !c.mustSee(s) {
		return ""
	}
	switch {
	case off <= po.maxFinal:
		return "the final read has no record there"
	case !c.h.FinalReadComplete[po.id]:
		return "" // the final read stopped short of off: no evidence either way
	case po.maxFinal < 0:
		return "the final read found the partition empty"
	}
	return fmt.Sprintf("the final read ended at offset %d", po.maxFinal)
}

// holds says the final read of po returned value at off, the common case that needs no
// closer look.
func (po *partOrder) holds(off int64, value string) bool {
	sl := &po.slot[po.slots[off]]
	return sl.from == fromFinal && sl.value == value
}

// takenKey is one value at one offset, so that a record read or acked many times counts
// once.
type takenKey struct {
	partition int32
	offset    int64
	value     string
}

// checkTruncated counts TruncatedRead per distinct (partition, offset, value) that
// non-final polls returned and the final read took back, and AckedTruncated per distinct
// (partition, offset, value) of OK sends with an ack offset that the final read took back.
func (c *checker) checkTruncated() {
	h := c.h
	read := map[takenKey]bool{}
	for i := range h.Polls {
		p := &h.Polls[i]
		po := c.parts[p.Partition]
		if p.Final || po == nil || !po.hasFinal {
			continue
		}
		for _, r := range p.Records {
			key := takenKey{p.Partition, r.Offset, r.Value}
			if po.holds(r.Offset, r.Value) || read[key] {
				continue
			}
			why := c.takenBack(po, r.Offset, r.Value, c.behind(c.lookup(r.Value), p.Partition, r.Offset))
			if why == "" {
				continue
			}
			read[key] = true
			k := exKey{a: int64(p.Partition), b: r.Offset, s: r.Value}
			if c.flag(TruncatedRead, 1, k) {
				c.example(TruncatedRead, k, fmt.Sprintf("value %q %s, but %s", r.Value, readAt(p, r), why))
			}
		}
	}
	acked := map[takenKey]bool{}
	for i := range h.Sends {
		s := &h.Sends[i]
		if s.Outcome != OK || s.Offset < 0 {
			continue
		}
		po := c.parts[s.Partition]
		key := takenKey{s.Partition, s.Offset, s.Value}
		if po == nil || !po.hasFinal || po.holds(s.Offset, s.Value) || acked[key] {
			continue
		}
		why := c.takenBack(po, s.Offset, s.Value, s)
		if why == "" {
			continue
		}
		acked[key] = true
		k := exKey{a: int64(s.Partition), b: s.Offset, s: s.Value}
		if c.flag(AckedTruncated, 1, k) {
			c.example(AckedTruncated, k, fmt.Sprintf("value %q acked at offset %d of partition %d to producer %d, but %s; %s",
				s.Value, s.Offset, s.Partition, s.Producer, why, c.whereNow(c.lookup(s.Value))))
		}
	}
}

// whereNow says where the final read holds a value, which tells a truncated value that a
// retry stored again from a lost one.
func (c *checker) whereNow(v *valueInfo) string {
	if !v.final {
		return "it is absent from the final read"
	}
	return fmt.Sprintf("the final read holds it at offset %d of partition %d", v.first.offset, v.first.partition)
}
