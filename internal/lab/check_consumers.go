package lab

import (
	"fmt"
	"slices"
)

// This file checks what the consumers' applications processed: values never processed
// and values processed more than once.

func (c *checker) checkConsumers() {
	h := c.h
	if !h.ConsumersRan {
		return
	}
	for i := range h.Processed {
		c.info(h.Processed[i].Value).processed++
	}
	for i := range c.infos {
		v := &c.infos[i]
		switch {
		case v.processed > 1:
			k := exKey{s: v.value}
			if c.flag(Reprocessed, v.processed-1, k) {
				c.example(Reprocessed, k, "") // the message needs the consumers, found below
			}
		case v.processed == 0 && v.final && v.send >= 0 && v.fate != aborted:
			k := exKey{a: int64(v.first.partition), b: v.first.offset, s: v.value}
			if c.flag(Unprocessed, 1, k) {
				c.example(Unprocessed, k, fmt.Sprintf("value %q at offset %d of partition %d in the final read was never processed",
					v.value, v.first.offset, v.first.partition))
			}
		}
	}
	c.describeReprocessed()
}

// describeReprocessed writes the examples of Reprocessed, naming the consumers of each.
func (c *checker) describeReprocessed() {
	set := c.ex[Reprocessed]
	if set == nil {
		return
	}
	by := map[string][]int{}
	for _, e := range set.items {
		by[e.key.s] = nil
	}
	for _, p := range c.h.Processed {
		if cs, ok := by[p.Value]; ok && !slices.Contains(cs, p.Consumer) {
			by[p.Value] = append(cs, p.Consumer)
		}
	}
	for i := range set.items {
		e := &set.items[i]
		cs := by[e.key.s]
		slices.Sort(cs)
		names := make([]string, len(cs))
		for j, n := range cs {
			names[j] = fmt.Sprint(n)
		}
		who := "consumer " + names[0]
		if len(names) > 1 {
			who = "consumers " + andList(names)
		}
		e.msg = fmt.Sprintf("value %q processed %d times by %s", e.key.s, c.lookup(e.key.s).processed, who)
	}
}
