package lab

// Anomaly names one kind of delivery failure the checker counts. The names follow
// Jepsen's Kafka queue workload where it has one; docs/guarantees.md defines each.
type Anomaly string

const (
	// Lost: an acknowledged value missing from the log although the final read went past
	// the offset it was acknowledged at (or read its partition to the end).
	Lost Anomaly = "lost"
	// Unseen: an acknowledged value no read reached, because the final read of its
	// partition stopped early.
	Unseen Anomaly = "unseen"
	// Duplicated: a value stored at more than one offset; counts the extra copies.
	Duplicated Anomaly = "duplicated"
	// AbortedRead: a read returned a value whose send failed or whose transaction aborted
	// (for a transaction's values, a read_committed read), or a value never sent.
	AbortedRead Anomaly = "aborted-read"
	// PrecommittedRead: a read_committed poll returned a transaction's value before the
	// transaction's commit was requested.
	PrecommittedRead Anomaly = "precommitted-read"
	// Reordered: a producer's later value stored at an earlier offset of the same
	// partition than one of its earlier values.
	Reordered Anomaly = "reordered"
	// PollSkip: successive polls of one assignment skipped a value stored between them.
	PollSkip Anomaly = "poll-skip"
	// PollBackwards: a poll of one assignment returned an offset at or below one the
	// consumer had already seen.
	PollBackwards Anomaly = "poll-backwards"
	// InconsistentOffsets: two reads, or a read and an ack, disagree on the value at an
	// offset.
	InconsistentOffsets Anomaly = "inconsistent-offsets"
	// Unprocessed: a value in the final read that no consumer processed.
	Unprocessed Anomaly = "unprocessed"
	// Reprocessed: a value processed more than once; counts the extra times.
	Reprocessed Anomaly = "reprocessed"
)

// Anomalies lists every anomaly in report order.
var Anomalies = []Anomaly{Lost, Unseen, Duplicated, AbortedRead, PrecommittedRead, Reordered,
	PollSkip, PollBackwards, InconsistentOffsets, Unprocessed, Reprocessed}

// Result is the checker's verdict on one history.
type Result struct {
	Sent     int `json:"sent"`     // values the producers tried to send
	Acked    int `json:"acked"`    // sends with outcome OK
	Failed   int `json:"failed"`   // sends with outcome Failed
	Unknown  int `json:"unknown"`  // sends with outcome Unknown
	Stored   int `json:"stored"`   // distinct values in the final read
	Consumed int `json:"consumed"` // distinct values polled by the consumers (not the final read)
	// Counts has an entry for every anomaly seen, none for those not seen.
	Counts map[Anomaly]int `json:"counts"`
	// Examples has up to five human-readable cases per anomaly seen, such as
	// `value p0-17 acked at offset 12 of partition 0, absent from the final read`.
	Examples map[Anomaly][]string `json:"examples,omitempty"`
}
