package lab

import (
	"fmt"
	"strings"
)

// Check audits a history and counts its anomalies. It reads nothing but h and never
// modifies it; the same history always gives the same Result, examples included.
//
// Definitions, after Jepsen's Kafka queue workload (jepsen.tests.kafka):
//
// A send's fate combines its outcome with its transaction's: aborted when the send
// Failed or its transaction (Send.Producer, Send.Txn) ended Failed; uncertain when the
// send is Unknown, or its transaction ended Unknown or has no Txn record at all (its
// producer died before ending it); committed otherwise (OK, and committed if
// transactional). An application may send a value again after an abort or a crash, so a
// value can have several Sends: the value's fate is the best of theirs (committed, then
// uncertain, then aborted) and its representative send the first send of that fate. A
// record read at the ack offset of one of its value's sends (same partition) is that
// send's; any other record is the representative's. A value no Send carries was never
// sent. Should two Txn records name the same transaction the last wins.
//
// Version order: per partition, the union of every (offset, value) pair returned by any
// poll, final read included, and of every OK send's ack offset (Offset >= 0). Where two
// sources disagree on the value at an offset, that offset counts once as
// InconsistentOffsets and the value kept is the final read's, else the first poll's in
// slice order, else the first ack's. A value is stored at the offsets the version order
// keeps it at; in a partition a final read covered, only at offsets the final read
// returned, since a power loss can take back what consumers read before it.
//
// Sent, Acked, Failed and Unknown count Sends by outcome; Stored counts the distinct
// values of the final polls, Consumed those of the other polls.
//
// Lost and Unseen: a value of committed fate absent from the final read (or, in a
// partition no final read covered, from every read) is Lost when one of its committed
// sends is in a partition whose final read reached the end (History.FinalReadComplete) or
// has a known ack offset at or below the highest offset the final read (without one: any
// read) returned in its partition, and Unseen otherwise. A value consumers read before it
// vanished from the log is lost all the same. Values of aborted or uncertain fate
// are never lost nor unseen. Each value counts once.
//
// AckedTruncated and TruncatedRead compare, in each partition a final read covered, an
// offset with the version order's value there, the final read's: an OK send's ack offset
// (AckedTruncated), or an offset a non-final poll returned (TruncatedRead), is taken back
// when the final read holds another value there, or holds no record there although it
// returned a higher offset or reached the end (History.FinalReadComplete) — unless the
// final read is read_committed and the send behind the record is transactional and not of
// committed fate, as such a record may lie there unseen. Each distinct (partition, offset,
// value) counts once per anomaly. A value taken back with no copy in the final read is
// also Lost (when of committed fate); an offset taken back and rewritten is also
// InconsistentOffsets, counted once per offset.
//
// ReplicaDivergence: per partition, History.Replicas compared batch by batch, each
// replica from its first batch to its log end: the replicas holding an offset must all
// hold it in the same batch (base and last offset, leader epoch, CRC), or all in none (a
// gap). One count per offset range over which they do not, however many replicas differ:
// a batch where the replicas' batch bounds line up, else the span of the batches that
// overlap one another. A replica's tail beyond another's end is not divergence, nor is an
// earlier log start.
//
// Duplicated: a value returned by reads at more than one distinct (partition, offset);
// counts copies-1 per value. Ack offsets do not count here.
//
// AbortedRead: distinct values of records that must never be read: a value never sent
// (read by anyone), a record of a non-transactional send that Failed (read by anyone), or
// a record of a transactional send of aborted fate read by a ReadCommitted poll, such as
// the aborted first copy of a value sent again in a later transaction. A read_uncommitted
// consumer legitimately sees aborted transactions' records, so set Poll.ReadCommitted on
// the final read too when it reads committed.
//
// PrecommittedRead: distinct values of records of transactional sends not of aborted fate
// (those are AbortedRead) returned by a ReadCommitted non-final poll whose Time is before
// the transaction's CommitStart, or whose transaction has a zero CommitStart or no Txn
// record.
//
// Reordered: for each producer and partition, its sends in Seq order; a send stored below
// one of the producer's earlier sends in that partition counts once. A send is stored at
// its value's first offset in the version order when the value has that one send, at its
// ack offset when the version order holds its value there, and is ignored otherwise
// (values not stored, or sent more than once without a matching ack).
//
// PollSkip and PollBackwards: the non-final polls of one (Consumer, Partition, Assignment)
// in Time order (slice order for equal times), their records in order, compared two by
// two: an offset at or below the previous one is PollBackwards; otherwise an offset of the
// version order strictly between them is PollSkip, one per jump. For a ReadCommitted poll
// only offsets a read_committed consumer must see count: read by some ReadCommitted poll,
// or holding a record that is non-transactional, never sent, or of a send of committed
// fate — so the records of aborted or unresolved transactions that no read_committed poll
// returned are not skips.
//
// Unprocessed and Reprocessed, only when History.ConsumersRan: the values expected to be
// processed are the distinct values of the final polls that were sent and are not of
// aborted fate;
// Unprocessed counts those with no Processed entry, Reprocessed counts, over every
// processed value, the times it was processed beyond the first.
//
// Counts has only the anomalies seen; Examples has up to five per anomaly, in a fixed order
// (by partition and offset mostly). The cost is O(n log n) in the size of the history.
func Check(h *History) Result {
	c := newChecker(h)
	c.buildVersionOrder()
	c.checkLost()
	c.checkTruncated()
	c.checkDuplicated()
	c.checkReordered()
	c.checkReads()
	c.checkPolls()
	c.checkConsumers()
	c.checkReplicas()
	return c.result()
}

// Count is how many times the result saw a.
func (r Result) Count(a Anomaly) int { return r.Counts[a] }

// Has says the result saw a at least once.
func (r Result) Has(a Anomaly) bool { return r.Counts[a] > 0 }

// maxExamples is how many examples the result keeps per anomaly.
const maxExamples = 5

// fate is what became of a send, from its outcome and its transaction's, in increasing
// order of preference for a value with several sends.
type fate uint8

const (
	neverSent fate = iota
	aborted        // the send failed or its transaction aborted
	uncertain      // the send's or its transaction's outcome is unknown
	committed      // OK, and committed when transactional
)

type txnKey struct{ producer, num int }

// place is one (partition, offset) at which a read returned a value.
type place struct {
	partition int32
	offset    int64
}

// valueInfo is what the history says about one value.
type valueInfo struct {
	value string
	send  int  // its representative send in History.Sends, -1 when never sent
	fate  fate // the representative's
	// head and tail are its first and last sends in History.Sends, linked by checker.next.
	head, tail int32
	first      place // the first place a read returned it (final reads first)
	extra      []place
	stored     int64 // its first offset in its representative send's partition, or -1
	read       bool
	final      bool
	polled     bool
	processed  int
	// abortedRead and precommitted say the value was already counted as such.
	abortedRead, precommitted bool
}

type checker struct {
	h      *History
	index  map[string]int32 // value → infos
	infos  []valueInfo
	txns   map[txnKey]int // → History.Txns
	next   []int32        // per send, the next send of the same value, -1 for none
	parts  map[int32]*partOrder
	counts map[Anomaly]int
	ex     map[Anomaly]*exampleSet
}

func newChecker(h *History) *checker {
	c := &checker{
		h:      h,
		index:  make(map[string]int32, len(h.Sends)),
		infos:  make([]valueInfo, 0, len(h.Sends)),
		txns:   make(map[txnKey]int, len(h.Txns)),
		parts:  map[int32]*partOrder{},
		counts: map[Anomaly]int{},
		ex:     map[Anomaly]*exampleSet{},
	}
	for i, t := range h.Txns {
		c.txns[txnKey{t.Producer, t.Num}] = i
	}
	c.next = make([]int32, len(h.Sends))
	for i := range h.Sends {
		c.next[i] = -1
		v := c.info(h.Sends[i].Value)
		if f := c.fateOf(&h.Sends[i]); v.send < 0 || f > v.fate {
			v.send, v.fate = i, f
		}
		if v.head < 0 {
			v.head = int32(i)
		} else {
			c.next[v.tail] = int32(i)
		}
		v.tail = int32(i)
	}
	return c
}

// info finds or adds the value's entry.
func (c *checker) info(value string) *valueInfo {
	if i, ok := c.index[value]; ok {
		return &c.infos[i]
	}
	c.index[value] = int32(len(c.infos))
	c.infos = append(c.infos, valueInfo{value: value, send: -1, head: -1, tail: -1, first: place{offset: -1}, stored: -1})
	return &c.infos[len(c.infos)-1]
}

// lookup finds the value's entry, nil when the history never mentions it.
func (c *checker) lookup(value string) *valueInfo {
	if i, ok := c.index[value]; ok {
		return &c.infos[i]
	}
	return nil
}

// sendOf is the value's representative send, nil when it was never sent.
func (c *checker) sendOf(v *valueInfo) *Send {
	if v == nil || v.send < 0 {
		return nil
	}
	return &c.h.Sends[v.send]
}

// behind is the send of the value's record at offset off of partition p: the send acked
// there, else the value's representative; nil when the value was never sent.
func (c *checker) behind(v *valueInfo, p int32, off int64) *Send {
	if v.head != v.tail {
		for i := v.head; i >= 0; i = c.next[i] {
			if s := &c.h.Sends[i]; s.Partition == p && s.Offset == off && s.Outcome == OK {
				return s
			}
		}
	}
	return c.sendOf(v)
}

// txnOf is the send's transaction record, nil when it has none or is not transactional.
func (c *checker) txnOf(s *Send) *Txn {
	if s.Txn == NoTxn {
		return nil
	}
	if i, ok := c.txns[txnKey{s.Producer, s.Txn}]; ok {
		return &c.h.Txns[i]
	}
	return nil
}

// fateOf combines the send's outcome with its transaction's.
func (c *checker) fateOf(s *Send) fate {
	if s == nil {
		return neverSent
	}
	if s.Outcome == Failed {
		return aborted
	}
	if s.Txn != NoTxn {
		t := c.txnOf(s)
		if t == nil {
			return uncertain
		}
		switch t.Outcome {
		case Failed:
			return aborted
		case Unknown:
			return uncertain
		}
	}
	if s.Outcome == Unknown {
		return uncertain
	}
	return committed
}

// flag counts n occurrences of a and reports whether an example keyed k would be kept, so
// that the caller formats only the examples that make it.
func (c *checker) flag(a Anomaly, n int, k exKey) bool {
	c.counts[a] += n
	s := c.ex[a]
	if s == nil {
		s = &exampleSet{}
		c.ex[a] = s
	}
	return s.wants(k)
}

// example keeps msg as an example of a under key k.
func (c *checker) example(a Anomaly, k exKey, msg string) { c.ex[a].put(k, msg) }

func (c *checker) result() Result {
	r := Result{Sent: len(c.h.Sends), Counts: map[Anomaly]int{}}
	for i := range c.h.Sends {
		switch c.h.Sends[i].Outcome {
		case OK:
			r.Acked++
		case Failed:
			r.Failed++
		default:
			r.Unknown++
		}
	}
	for _, l := range c.h.Replicas {
		r.ReplicaBatches += len(l.Batches)
	}
	for i := range c.infos {
		if c.infos[i].final {
			r.Stored++
		}
		if c.infos[i].polled {
			r.Consumed++
		}
	}
	for a, n := range c.counts {
		if n == 0 {
			continue
		}
		r.Counts[a] = n
		if s := c.ex[a]; s != nil && len(s.items) > 0 {
			if r.Examples == nil {
				r.Examples = map[Anomaly][]string{}
			}
			for _, e := range s.items {
				r.Examples[a] = append(r.Examples[a], e.msg)
			}
		}
	}
	return r
}

// exKey orders examples: by a, b, c, then s.
type exKey struct {
	a, b, c int64
	s       string
}

func (k exKey) less(o exKey) bool {
	switch {
	case k.a != o.a:
		return k.a < o.a
	case k.b != o.b:
		return k.b < o.b
	case k.c != o.c:
		return k.c < o.c
	}
	return k.s < o.s
}

type example struct {
	key exKey
	msg string
}

// exampleSet keeps the maxExamples examples with the smallest keys, in order.
type exampleSet struct{ items []example }

func (s *exampleSet) wants(k exKey) bool {
	return len(s.items) < maxExamples || !s.items[len(s.items)-1].key.less(k)
}

func (s *exampleSet) put(k exKey, msg string) {
	i := len(s.items)
	for i > 0 {
		p := s.items[i-1]
		if p.key.less(k) || (p.key == k && p.msg <= msg) {
			break
		}
		i--
	}
	if i >= maxExamples {
		return
	}
	s.items = append(s.items, example{})
	copy(s.items[i+1:], s.items[i:])
	s.items[i] = example{k, msg}
	if len(s.items) > maxExamples {
		s.items = s.items[:maxExamples]
	}
}

// readBy names who returned a poll's records.
func readBy(p *Poll) string {
	if p.Final {
		return "the final read"
	}
	return fmt.Sprintf("consumer %d", p.Consumer)
}

// andList writes items as "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
