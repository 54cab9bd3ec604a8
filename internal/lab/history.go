// Package lab is the delivery lab: workloads that produce unique values and consume them
// with a chosen strategy, a history of everything they saw, a checker that counts what was
// lost, duplicated or reordered, and the scenarios (settings × fault) of the guarantee
// matrix.
//
// A history is plain data. Workloads append to it through a Recorder while they run; the
// checker reads it afterwards and never talks to a broker.
package lab

import (
	"sync"
	"time"

	"github.com/waybill/waybill/internal/faults"
)

// Outcome is what a client learned about an operation.
type Outcome int

const (
	// OK: the broker acknowledged it.
	OK Outcome = iota
	// Failed: the broker definitely refused it, so it must never be read.
	Failed
	// Unknown: the client cannot tell (a timeout, a cut connection, NOT_LEADER_OR_FOLLOWER);
	// an unknown send is neither lost when absent nor failed when present.
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	default:
		return "unknown"
	}
}

// MarshalText names outcomes in JSON reports.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// NoTxn marks a send outside any transaction.
const NoTxn = -1

// Send is one produced value, recorded when the client learned its outcome.
type Send struct {
	Producer  int    // the producer incarnation (a restarted application is a new one)
	Value     string // unique per work item, but sent again after an abort or a crash
	Partition int32
	Seq       int // the order in which this producer called produce, from 0
	Txn       int // this producer's transaction number, or NoTxn
	Outcome   Outcome
	Offset    int64 // from the ack; -1 when the client has none (acks=0, not OK)
	Err       string
	Start     time.Time
	End       time.Time
}

// Txn is the end of one transaction of a producer.
type Txn struct {
	Producer int
	Num      int
	// Outcome is OK for a commit the broker acknowledged, Failed for an abort (asked for
	// or forced), Unknown when the commit's answer was lost.
	Outcome Outcome
	// CommitStart is when the commit was requested (zero for an abort); a read_committed
	// poll that returned the transaction's values before it is a precommitted read.
	CommitStart time.Time
	End         time.Time
}

// Record is one record returned by a poll.
type Record struct {
	Offset int64
	Value  string
}

// Poll is what one consumer got for one partition in one poll.
type Poll struct {
	Consumer  int // the consumer incarnation
	Partition int32
	// Assignment counts the consumer's assignments of this partition: a poll compares
	// with the previous poll of the same assignment only, since a new assignment
	// legitimately starts at the committed offset.
	Assignment int
	// ReadCommitted says the poll read with isolation.level=read_committed; set it on the
	// final read too, as the checker then counts aborted transactions' values in it.
	ReadCommitted bool
	// Final marks the audit read after the workload, from the start of every partition to
	// its end.
	Final   bool
	Records []Record
	Time    time.Time
}

// Commit is one offset commit of a consumer (inside a transaction for exactly-once).
type Commit struct {
	Consumer  int
	Partition int32
	Offset    int64 // the next offset to read
	Outcome   Outcome
	Time      time.Time
}

// Processed says a consumer's application handled a value: for the at-most-once and
// at-least-once strategies when its processing ran; for exactly-once when the transformed
// value is in the committed output.
type Processed struct {
	Consumer int
	Value    string
	Time     time.Time
}

// History is everything one run observed.
type History struct {
	Topic      string
	Partitions int32
	Sends      []Send
	Txns       []Txn
	Polls      []Poll
	Commits    []Commit
	Processed  []Processed
	// FinalReadComplete holds the partitions whose final read reached the end of the log.
	FinalReadComplete map[int32]bool
	// ConsumersRan says consumers processed the values, so the checker also counts values
	// processed zero times or more than once.
	ConsumersRan bool
	// Replicas are the batches every replica of the topic's partitions held once the
	// cluster settled after the run, for the batch-by-batch comparison of replicas. Empty
	// on a single node, or when the lab cannot read the replicas: then that comparison
	// does not apply.
	Replicas []faults.ReplicaLog
}

// Recorder appends to a history from many goroutines.
type Recorder struct {
	mu sync.Mutex
	h  History
}

// NewRecorder starts an empty history of topic.
func NewRecorder(topic string, partitions int32) *Recorder {
	return &Recorder{h: History{Topic: topic, Partitions: partitions, FinalReadComplete: map[int32]bool{}}}
}

func (r *Recorder) Send(s Send) { r.mu.Lock(); r.h.Sends = append(r.h.Sends, s); r.mu.Unlock() }
func (r *Recorder) Txn(t Txn)   { r.mu.Lock(); r.h.Txns = append(r.h.Txns, t); r.mu.Unlock() }
func (r *Recorder) Poll(p Poll) { r.mu.Lock(); r.h.Polls = append(r.h.Polls, p); r.mu.Unlock() }
func (r *Recorder) Commit(c Commit) {
	r.mu.Lock()
	r.h.Commits = append(r.h.Commits, c)
	r.mu.Unlock()
}
func (r *Recorder) Processed(p Processed) {
	r.mu.Lock()
	r.h.Processed = append(r.h.Processed, p)
	r.mu.Unlock()
}

// FinalReadComplete marks a partition whose final read reached its end.
func (r *Recorder) FinalReadComplete(p int32) {
	r.mu.Lock()
	r.h.FinalReadComplete[p] = true
	r.mu.Unlock()
}

// Replicas records the replicas' logs read after the run; a later call replaces them, as
// only the settled cluster's state is compared.
func (r *Recorder) Replicas(logs []faults.ReplicaLog) {
	r.mu.Lock()
	r.h.Replicas = append([]faults.ReplicaLog(nil), logs...)
	r.mu.Unlock()
}

// ConsumersRan marks a run whose consumers processed values.
func (r *Recorder) ConsumersRan() { r.mu.Lock(); r.h.ConsumersRan = true; r.mu.Unlock() }

// History returns a copy of what was recorded so far.
func (r *Recorder) History() *History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.h
	h.Sends = append([]Send(nil), h.Sends...)
	h.Txns = append([]Txn(nil), h.Txns...)
	h.Polls = append([]Poll(nil), h.Polls...)
	h.Commits = append([]Commit(nil), h.Commits...)
	h.Processed = append([]Processed(nil), h.Processed...)
	h.Replicas = append([]faults.ReplicaLog(nil), h.Replicas...)
	h.FinalReadComplete = make(map[int32]bool, len(r.h.FinalReadComplete))
	for p, ok := range r.h.FinalReadComplete {
		h.FinalReadComplete[p] = ok
	}
	return &h
}
