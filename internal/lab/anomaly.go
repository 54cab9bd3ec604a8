package lab

// Anomaly names one kind of delivery failure the checker counts. The names follow
// Jepsen's Kafka queue workload where it has one; docs/guarantees.md defines each.
type Anomaly string

const (
	// Lost: an acknowledged value missing from the log although the final read went past
	// the offset it was acknowledged at (or read its partition to the end).
	Lost Anomaly = "lost"
	// AckedTruncated: an offset acknowledged to hold a value that, in the final read,
	// holds another value or no record (it lies past the log's end, say) although the
	// final read covered it: the log under an ack was cut away. Most such values are also Lost; a value acked,
	// truncated and stored again elsewhere (a retry) is AckedTruncated but not Lost, and
	// a Lost value acknowledged without an offset (acks=0) is not AckedTruncated.
	AckedTruncated Anomaly = "acked-truncated"
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
	// TruncatedRead: a consumer read a value at an offset that, in the final read, holds
	// another value or no record (it lies past the log's end, say) although the final
	// read covered it: the consumer acted on a record the cluster took back (a deposed leader's unreplicated
	// tail, data lost at a power loss). An offset truncated and written again is also
	// InconsistentOffsets; one merely cut off the end is not.
	TruncatedRead Anomaly = "read-truncated"
	// ReplicaDivergence: two replicas of a partition hold different batches (offsets,
	// leader epoch or CRC) below the smaller of their log ends, after the run.
	ReplicaDivergence Anomaly = "replica-divergence"
	// Unprocessed: a value in the final read that no consumer processed.
	Unprocessed Anomaly = "unprocessed"
	// Reprocessed: a value processed more than once; counts the extra times.
	Reprocessed Anomaly = "reprocessed"
)

// Anomalies lists every anomaly in report order.
var Anomalies = []Anomaly{Lost, AckedTruncated, Unseen, Duplicated, AbortedRead, PrecommittedRead,
	Reordered, PollSkip, PollBackwards, InconsistentOffsets, TruncatedRead, ReplicaDivergence,
	Unprocessed, Reprocessed}

// Result is the checker's verdict on one history.
type Result struct {
	Sent     int `json:"sent"`     // values the producers tried to send
	Acked    int `json:"acked"`    // sends with outcome OK
	Failed   int `json:"failed"`   // sends with outcome Failed
	Unknown  int `json:"unknown"`  // sends with outcome Unknown
	Stored   int `json:"stored"`   // distinct values in the final read
	Consumed int `json:"consumed"` // distinct values polled by the consumers (not the final read)
	// ReplicaBatches counts the batches of the replicas compared after the run, summed
	// over replicas: 0 when the target's replicas could not be read (one node, a cluster
	// the lab does not control).
	ReplicaBatches int `json:"replica_batches"`
	// Counts has an entry for every anomaly seen, none for those not seen.
	Counts map[Anomaly]int `json:"counts"`
	// Examples has up to five human-readable cases per anomaly seen, such as
	// `value p0-17 acked at offset 12 of partition 0, absent from the final read`.
	Examples map[Anomaly][]string `json:"examples,omitempty"`
}
