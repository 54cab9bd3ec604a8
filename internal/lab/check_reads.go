package lab

import "fmt"

// This file checks what reads returned against what they were allowed to return: aborted
// and precommitted reads.

func (c *checker) checkReads() {
	h := c.h
	for i := range h.Polls {
		p := &h.Polls[i]
		for _, r := range p.Records {
			v := c.lookup(r.Value)
			if v.abortedRead {
				continue
			}
			s := c.behind(v, p.Partition, r.Offset)
			if s != nil && s.Txn == NoTxn && s.Outcome != Failed {
				continue // the common case: nothing forbids reading it
			}
			k := exKey{a: int64(p.Partition), b: r.Offset, s: r.Value}
			switch {
			case s == nil:
				if c.abortedRead(v, k) {
					c.example(AbortedRead, k, fmt.Sprintf("value %q %s was never sent", r.Value, readAt(p, r)))
				}
			case s.Txn == NoTxn:
				if s.Outcome == Failed && c.abortedRead(v, k) {
					c.example(AbortedRead, k, fmt.Sprintf("value %q, whose send failed%s, %s", r.Value, because(s.Err), readAt(p, r)))
				}
			case !p.ReadCommitted:
				// read_uncommitted consumers see open and aborted transactions.
			case c.fateOf(s) == aborted:
				if !c.abortedRead(v, k) {
					continue
				}
				why := "which aborted"
				if s.Outcome == Failed {
					why = "whose send failed" + because(s.Err)
				}
				c.example(AbortedRead, k, fmt.Sprintf("value %q of transaction %d of producer %d, %s, %s (read_committed)",
					r.Value, s.Txn, s.Producer, why, readAt(p, r)))
			case !p.Final && !v.precommitted:
				c.checkPrecommitted(p, r, s, v, k)
			}
		}
	}
}

// abortedRead counts the value as an aborted read and reports whether to describe it.
func (c *checker) abortedRead(v *valueInfo, k exKey) bool {
	v.abortedRead = true
	return c.flag(AbortedRead, 1, k)
}

// readAt says where and by whom a record was read.
func readAt(p *Poll, r Record) string {
	return fmt.Sprintf("read at offset %d of partition %d by %s", r.Offset, p.Partition, readBy(p))
}

// checkPrecommitted flags a transactional value a read_committed poll returned before its
// transaction's commit was requested.
func (c *checker) checkPrecommitted(p *Poll, r Record, s *Send, v *valueInfo, k exKey) {
	t := c.txnOf(s)
	var why string
	switch {
	case t == nil:
		why = "which never ended"
	case t.CommitStart.IsZero():
		why = "which records no commit request"
	case t.CommitStart.After(p.Time):
		why = fmt.Sprintf("%v before its commit was requested", t.CommitStart.Sub(p.Time))
	default:
		return
	}
	v.precommitted = true
	if c.flag(PrecommittedRead, 1, k) {
		c.example(PrecommittedRead, k, fmt.Sprintf("value %q of transaction %d of producer %d %s (read_committed), %s",
			r.Value, s.Txn, s.Producer, readAt(p, r), why))
	}
}

// because appends a send's error to a phrase, if there is one.
func because(err string) string {
	if err == "" {
		return ""
	}
	return " (" + err + ")"
}
