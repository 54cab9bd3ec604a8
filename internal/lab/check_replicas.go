package lab

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/partition"
)

// This file compares the replicas of each partition batch by batch, as they were once the
// cluster settled after the run.

// checkReplicas counts ReplicaDivergence once per offset range over which the replicas of
// a partition do not all hold the same batches, however many replicas differ there. Where
// the replicas' batch bounds line up a range is one batch; where they do not, it spans
// the batches that overlap one another. Each replica is compared from its first batch to
// its log end, so a replica's longer tail that the others have not copied yet, and an
// earlier log start (segments deleted independently), are not divergence; a gap in one
// replica's batches where another holds a batch is.
func (c *checker) checkReplicas() {
	logs := slices.Clone(c.h.Replicas)
	slices.SortStableFunc(logs, func(a, b faults.ReplicaLog) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Node, b.Node))
	})
	// A node listed twice for one partition is the same replica read twice.
	logs = slices.CompactFunc(logs, func(a, b faults.ReplicaLog) bool {
		return a.Partition == b.Partition && a.Node == b.Node
	})

	for i := 0; i < len(logs); {
		j := i + 1
		for j < len(logs) && logs[j].Partition == logs[i].Partition {
			j++
		}
		if j-i > 1 {
			c.compareReplicas(logs[i:j])
		}
		i = j
	}
}

// notLive marks a replica whose compared range does not hold an offset.
const notLive = -2

// divergence is an offset range [lo, hi) of a partition over which replicas differ.
type divergence struct {
	lo, hi int64
	in     []bool // per replica, it held some offset of the range
}

// compareReplicas compares the replicas of one partition, sorted by node. It cuts the
// offsets at every batch bound and log end of any replica; in each piece, the replicas
// that hold it must all cover it with the same batch (or all with none).
func (c *checker) compareReplicas(rs []faults.ReplicaLog) {
	starts := make([]int64, len(rs))
	var bounds []int64
	for i, r := range rs {
		starts[i] = r.End
		if len(r.Batches) > 0 {
			starts[i] = r.Batches[0].BaseOffset
		}
		bounds = append(bounds, starts[i], r.End)
		for _, b := range r.Batches {
			bounds = append(bounds, b.BaseOffset, b.LastOffset+1)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	held := make([]int, len(rs)) // per replica, its batch covering the piece, -1 none, or notLive
	var open *divergence
	for i := 0; i+1 < len(bounds); i++ {
		x := bounds[i]
		first, differ, straddles := -1, false, false
		for j, r := range rs {
			held[j] = notLive
			if x < starts[j] || x >= r.End {
				continue
			}
			held[j] = covering(r.Batches, x)
			if first < 0 {
				first = j
			} else if !sameBatch(rs[first].Batches, held[first], r.Batches, held[j]) {
				differ = true
			}
			straddles = straddles || held[j] >= 0 && r.Batches[held[j]].BaseOffset < x
		}
		if !differ {
			c.reportDivergence(rs, open)
			open = nil
			continue
		}
		// A batch reaching back into the open range makes this piece part of it.
		if open == nil || !straddles {
			c.reportDivergence(rs, open)
			open = &divergence{lo: x, in: make([]bool, len(rs))}
		}
		open.hi = bounds[i+1]
		for j := range rs {
			open.in[j] = open.in[j] || held[j] != notLive
		}
	}
	c.reportDivergence(rs, open)
}

// covering is the index of the batch holding offset off, -1 when none does.
func covering(batches []partition.BatchID, off int64) int {
	i := sort.Search(len(batches), func(i int) bool { return batches[i].BaseOffset > off }) - 1
	if i >= 0 && batches[i].LastOffset >= off {
		return i
	}
	return -1
}

func sameBatch(a []partition.BatchID, i int, b []partition.BatchID, j int) bool {
	if i < 0 || j < 0 {
		return i == j
	}
	return a[i] == b[j]
}

// reportDivergence counts d, if any, and describes it with what each replica holds there,
// replicas holding the same named together.
func (c *checker) reportDivergence(rs []faults.ReplicaLog, d *divergence) {
	if d == nil {
		return
	}
	p := rs[0].Partition
	k := exKey{a: int64(p), b: d.lo}
	if !c.flag(ReplicaDivergence, 1, k) {
		return
	}
	var holdings []string          // distinct descriptions, in node order
	nodes := map[string][]string{} // description → nodes
	for j, r := range rs {
		if !d.in[j] {
			continue
		}
		h := describeHolding(r, d.lo, d.hi)
		if _, ok := nodes[h]; !ok {
			holdings = append(holdings, h)
		}
		nodes[h] = append(nodes[h], fmt.Sprint(r.Node))
	}
	parts := make([]string, len(holdings))
	for i, h := range holdings {
		ns := nodes[h]
		if len(ns) == 1 {
			parts[i] = fmt.Sprintf("node %s has %s", ns[0], h)
		} else {
			parts[i] = fmt.Sprintf("nodes %s have %s", andList(ns), h)
		}
	}
	where := fmt.Sprintf("offsets %d-%d", d.lo, d.hi-1)
	if d.hi-d.lo == 1 {
		where = fmt.Sprintf("offset %d", d.lo)
	}
	c.example(ReplicaDivergence, k, fmt.Sprintf("partition %d %s: %s", p, where, strings.Join(parts, "; ")))
}

// describeHolding lists the batches of r within [lo, hi), with their offsets unless one
// batch spans exactly the range.
func describeHolding(r faults.ReplicaLog, lo, hi int64) string {
	var out []string
	for _, b := range r.Batches {
		if b.LastOffset < lo || b.BaseOffset >= hi {
			continue
		}
		id := fmt.Sprintf("epoch %d crc 0x%08x", b.LeaderEpoch, b.CRC)
		if b.BaseOffset != lo || b.LastOffset != hi-1 {
			id = fmt.Sprintf("%d-%d %s", b.BaseOffset, b.LastOffset, id)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		out = append(out, "no batch")
	}
	if r.End < hi {
		out = append(out, fmt.Sprintf("and ends at %d", r.End))
	}
	return strings.Join(out, ", ")
}
