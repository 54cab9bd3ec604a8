package lab

import (
	"cmp"
	"fmt"
	"slices"
)

// This file checks each consumer's successive polls of one assignment: skipped and
// backwards offsets.

func (c *checker) checkPolls() {
	h := c.h
	order := make([]int32, 0, len(h.Polls))
	for i := range h.Polls {
		if !h.Polls[i].Final && len(h.Polls[i].Records) > 0 {
			order = append(order, int32(i))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		x, y := &h.Polls[a], &h.Polls[b]
		return cmp.Or(cmp.Compare(x.Consumer, y.Consumer), cmp.Compare(x.Partition, y.Partition),
			cmp.Compare(x.Assignment, y.Assignment), x.Time.Compare(y.Time), cmp.Compare(a, b))
	})
	var prev *Poll // the previous poll of the assignment, nil at its start
	var last int64 // the offset of the assignment's last record
	for _, i := range order {
		p := &h.Polls[i]
		if prev != nil && (p.Consumer != prev.Consumer || p.Partition != prev.Partition || p.Assignment != prev.Assignment) {
			prev = nil
		}
		po := c.parts[p.Partition]
		for j, r := range p.Records {
			if prev != nil || j > 0 {
				c.checkStep(p, po, last, r.Offset)
			}
			last = r.Offset
		}
		prev = p
	}
}

// checkStep compares two successive offsets a consumer read in one assignment.
func (c *checker) checkStep(p *Poll, po *partOrder, from, to int64) {
	if to <= from {
		k := exKey{a: int64(p.Consumer), b: int64(p.Partition), c: from}
		if c.flag(PollBackwards, 1, k) {
			c.example(PollBackwards, k, fmt.Sprintf("consumer %d polled offset %d then %d of partition %d (assignment %d)",
				p.Consumer, from, to, p.Partition, p.Assignment))
		}
		return
	}
	if to == from+1 {
		return
	}
	offs := po.offsets
	if p.ReadCommitted {
		offs = po.rcOffsets
	}
	lo, _ := slices.BinarySearch(offs, from+1)
	hi, _ := slices.BinarySearch(offs, to)
	if lo >= hi {
		return
	}
	k := exKey{a: int64(p.Consumer), b: int64(p.Partition), c: from}
	if !c.flag(PollSkip, 1, k) {
		return
	}
	skipped := fmt.Sprint(from + 1)
	if to-from > 2 {
		skipped = fmt.Sprintf("%d-%d", from+1, to-1)
	}
	over := fmt.Sprintf("%q at %d", po.slot[po.slots[offs[lo]]].value, offs[lo])
	if n := hi - lo; n > 1 {
		over = fmt.Sprintf("%d stored values from %s", n, over)
	}
	c.example(PollSkip, k, fmt.Sprintf("consumer %d polled offset %d then %d of partition %d (assignment %d), skipping %s, over %s",
		p.Consumer, from, to, p.Partition, p.Assignment, skipped, over))
}
