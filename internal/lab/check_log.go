package lab

import (
	"cmp"
	"fmt"
	"slices"
)

// This file builds the version order of each partition and checks what it implies on its
// own: inconsistent offsets, lost and unseen values, duplicates and reordering.

// source is where the version order learned the value at an offset, in order of trust.
type source uint8

const (
	fromFinal source = iota
	fromPoll
	fromAck
)

// slot is one offset of a partition's version order.
type slot struct {
	value    string
	from     source
	who      int  // the consumer or producer behind from
	rc       bool // a read_committed consumer must see this offset
	conflict bool // sources disagree on the value
}

// partOrder is one partition's version order.
type partOrder struct {
	id        int32
	slots     map[int64]int32 // offset → slots
	slot      []slot
	offsets   []int64 // sorted offsets of every slot
	rcOffsets []int64 // sorted offsets of the slots with rc set
	maxRead   int64   // the highest offset any read returned, -1 when none
	// hasFinal says a final read covered the partition; then what is stored is what it
	// returned, whatever consumers read before (a power loss can take that back).
	hasFinal bool
	maxFinal int64 // the highest offset the final read returned, -1 when none
	// finalRC says the final read was read_committed, so it did not show the records of
	// aborted or open transactions.
	finalRC bool
}

func (c *checker) part(p int32) *partOrder {
	po := c.parts[p]
	if po == nil {
		po = &partOrder{id: p, slots: map[int64]int32{}, maxRead: -1, maxFinal: -1}
		c.parts[p] = po
	}
	return po
}

// describe names a source of the version order in examples.
func describe(from source, who int) string {
	switch from {
	case fromFinal:
		return "the final read"
	case fromPoll:
		return fmt.Sprintf("consumer %d", who)
	default:
		return fmt.Sprintf("the ack to producer %d", who)
	}
}

// put adds one (offset, value) pair to the version order, keeping the first value and
// flagging an offset whose sources disagree.
func (c *checker) put(po *partOrder, off int64, value string, from source, who int, rc bool) {
	i, ok := po.slots[off]
	if !ok {
		po.slots[off] = int32(len(po.slot))
		po.slot = append(po.slot, slot{value: value, from: from, who: who, rc: rc})
		return
	}
	s := &po.slot[i]
	s.rc = s.rc || rc
	if s.value == value || s.conflict {
		return
	}
	s.conflict = true
	k := exKey{a: int64(po.id), b: off}
	if c.flag(InconsistentOffsets, 1, k) {
		c.example(InconsistentOffsets, k, fmt.Sprintf("offset %d of partition %d holds %q per %s but %q per %s",
			off, po.id, s.value, describe(s.from, s.who), value, describe(from, who)))
	}
}

// mustSee says a read_committed consumer must see the record of send s: it is not
// transactional, was never sent (s is nil: garbage is visible to everyone), or is of
// committed fate.
func (c *checker) mustSee(s *Send) bool {
	return s == nil || s.Txn == NoTxn || c.fateOf(s) == committed
}

func (c *checker) buildVersionOrder() {
	h := c.h
	// The final read first, then the other polls, so that the version order keeps what
	// the final read saw.
	for _, final := range []bool{true, false} {
		from := fromPoll
		if final {
			from = fromFinal
		}
		for i := range h.Polls {
			p := &h.Polls[i]
			if p.Final != final {
				continue
			}
			po := c.part(p.Partition)
			po.hasFinal = po.hasFinal || final
			po.finalRC = po.finalRC || final && p.ReadCommitted
			for _, r := range p.Records {
				if final {
					po.maxFinal = max(po.maxFinal, r.Offset)
				}
				v := c.info(r.Value)
				v.noteRead(place{p.Partition, r.Offset}, final)
				po.maxRead = max(po.maxRead, r.Offset)
				rc := p.ReadCommitted || c.mustSee(c.behind(v, p.Partition, r.Offset))
				c.put(po, r.Offset, r.Value, from, p.Consumer, rc)
			}
		}
	}
	for i := range h.Sends {
		s := &h.Sends[i]
		if s.Outcome != OK || s.Offset < 0 {
			continue
		}
		c.put(c.part(s.Partition), s.Offset, s.Value, fromAck, s.Producer, c.mustSee(s))
	}
	for _, po := range c.parts {
		po.offsets = make([]int64, 0, len(po.slot))
		for off, i := range po.slots {
			po.offsets = append(po.offsets, off)
			if po.slot[i].rc {
				po.rcOffsets = append(po.rcOffsets, off)
			}
		}
		slices.Sort(po.offsets)
		slices.Sort(po.rcOffsets)
		for _, off := range po.offsets {
			sl := po.slot[po.slots[off]]
			if po.hasFinal && sl.from != fromFinal {
				continue // a consumer's or an ack's, not what the final read found there
			}
			v := c.lookup(sl.value)
			if s := c.sendOf(v); s != nil && s.Partition == po.id && v.stored < 0 {
				v.stored = off
			}
		}
	}
}

// noteRead records that a read returned the value at pl.
func (v *valueInfo) noteRead(pl place, final bool) {
	if final {
		v.final = true
	} else {
		v.polled = true
	}
	if !v.read {
		v.read = true
		v.first = pl
		return
	}
	if pl == v.first || slices.Contains(v.extra, pl) {
		return
	}
	v.extra = append(v.extra, pl)
}

// checkLost finds the committed values no read returned.
func (c *checker) checkLost() {
	h := c.h
	for i := range c.infos {
		v := &c.infos[i]
		if v.fate != committed || v.final || v.read && !c.hasFinal(c.sendOf(v).Partition) {
			continue
		}
		// Lost if one of its committed sends says so; otherwise unseen, as its
		// representative says.
		s, lost := c.sendOf(v), false
		for j := v.head; j >= 0 && !lost; j = c.next[j] {
			if sj := &h.Sends[j]; c.fateOf(sj) == committed {
				if lost = h.FinalReadComplete[sj.Partition] || sj.Offset >= 0 && sj.Offset <= c.maxRead(sj.Partition); lost {
					s = sj
				}
			}
		}
		earlier := ""
		if v.read {
			earlier = " (a consumer had read it before)"
		}
		acked := fmt.Sprintf("value %q acked at offset %d of partition %d", s.Value, s.Offset, s.Partition)
		if s.Offset < 0 {
			acked = fmt.Sprintf("value %q acked without an offset on partition %d", s.Value, s.Partition)
		}
		k := exKey{a: int64(s.Partition), b: s.Offset, s: s.Value}
		maxRead := c.maxRead(s.Partition)
		switch {
		case !lost:
			if c.flag(Unseen, 1, k) {
				why := "no read returned any record of the partition"
				if maxRead >= 0 {
					why = fmt.Sprintf("reads stopped at offset %d, short of the end", maxRead)
				}
				c.example(Unseen, k, fmt.Sprintf("%s, unread: %s", acked, why))
			}
		case h.FinalReadComplete[s.Partition]:
			if c.flag(Lost, 1, k) {
				c.example(Lost, k, acked+", absent from the final read although it reached the end"+earlier)
			}
		default:
			if c.flag(Lost, 1, k) {
				c.example(Lost, k, fmt.Sprintf("%s, absent from the reads although they reached offset %d%s", acked, maxRead, earlier))
			}
		}
	}
}

// maxRead is the highest offset the final read (any read, without one) returned in
// partition p, -1 when none.
func (c *checker) maxRead(p int32) int64 {
	po := c.parts[p]
	switch {
	case po == nil:
		return -1
	case po.hasFinal:
		return po.maxFinal
	}
	return po.maxRead
}

// hasFinal says a final read covered partition p.
func (c *checker) hasFinal(p int32) bool {
	po := c.parts[p]
	return po != nil && po.hasFinal
}

// checkDuplicated finds the values reads returned at more than one offset.
func (c *checker) checkDuplicated() {
	for i := range c.infos {
		v := &c.infos[i]
		if len(v.extra) == 0 {
			continue
		}
		pls := append([]place{v.first}, v.extra...)
		slices.SortFunc(pls, func(a, b place) int {
			return cmp.Or(cmp.Compare(a.partition, b.partition), cmp.Compare(a.offset, b.offset))
		})
		value := v.value
		k := exKey{a: int64(pls[0].partition), b: pls[0].offset, s: value}
		if !c.flag(Duplicated, len(v.extra), k) {
			continue
		}
		var msg string
		if pls[0].partition == pls[len(pls)-1].partition {
			offs := make([]string, len(pls))
			for j, pl := range pls {
				offs[j] = fmt.Sprint(pl.offset)
			}
			msg = fmt.Sprintf("value %q at offsets %s of partition %d", value, andList(offs), pls[0].partition)
		} else {
			parts := make([]string, len(pls))
			for j, pl := range pls {
				parts[j] = fmt.Sprintf("offset %d of partition %d", pl.offset, pl.partition)
			}
			msg = fmt.Sprintf("value %q at %s", value, andList(parts))
		}
		c.example(Duplicated, k, msg)
	}
}

// storedAt is where send s is stored in the version order, -1 when unknown: its value's
// first offset if the value has no other send, else its ack offset if the version order
// holds its value there.
func (c *checker) storedAt(s *Send) int64 {
	v := c.lookup(s.Value)
	if v.head == v.tail {
		return v.stored
	}
	if s.Offset < 0 || s.Outcome != OK {
		return -1
	}
	if po := c.parts[s.Partition]; po != nil {
		if i, ok := po.slots[s.Offset]; ok && po.slot[i].value == s.Value {
			return s.Offset
		}
	}
	return -1
}

// checkReordered finds, per producer and partition, the values stored below one of the
// producer's earlier values.
func (c *checker) checkReordered() {
	h := c.h
	order := make([]int32, len(h.Sends))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &h.Sends[a], &h.Sends[b]
		return cmp.Or(cmp.Compare(x.Producer, y.Producer), cmp.Compare(x.Partition, y.Partition),
			cmp.Compare(x.Seq, y.Seq), cmp.Compare(a, b))
	})
	var top *Send // the producer's send stored highest so far in this partition
	var topOff int64
	for _, i := range order {
		s := &h.Sends[i]
		if top != nil && (s.Producer != top.Producer || s.Partition != top.Partition) {
			top = nil
		}
		off := c.storedAt(s)
		if off < 0 {
			continue
		}
		if top != nil && off < topOff {
			k := exKey{a: int64(s.Partition), b: off, s: s.Value}
			if c.flag(Reordered, 1, k) {
				c.example(Reordered, k, fmt.Sprintf("producer %d's value %q (seq %d) at offset %d of partition %d, below its earlier %q (seq %d) at offset %d",
					s.Producer, s.Value, s.Seq, off, s.Partition, top.Value, top.Seq, topOff))
			}
			continue
		}
		top, topOff = s, off
	}
}
