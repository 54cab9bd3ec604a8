package console

import (
	"context"
	"slices"
	"time"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/lab"
)

// Tally is the simulator's running count: the lab's checker applied to the run's
// history plus a fresh read of the whole topic.
type Tally struct {
	Sent     int `json:"sent"`     // values the user sent
	Acked    int `json:"acked"`    // values the producer saw acknowledged
	Unknown  int `json:"unknown"`  // values whose outcome the producer could not learn
	Failed   int `json:"failed"`   // values the broker refused
	Stored   int `json:"stored"`   // distinct values in the topic
	Consumed int `json:"consumed"` // distinct values the consumer polled
	// Processed counts distinct values the consuming application processed (for the
	// transactional strategy: in its committed output).
	Processed int `json:"processed"`
	// Lost counts acked values missing from the topic: acked but lost.
	Lost int `json:"lost"`
	// AckedTruncated counts acked offsets the log no longer holds as acked: a deposed
	// leader's truncated tail.
	AckedTruncated int `json:"acked_truncated"`
	// ReadTruncated counts values a consumer read that the log took back.
	ReadTruncated int `json:"read_truncated"`
	// Diverged counts offset ranges where two replicas hold different batches, once the
	// run is quiet.
	Diverged    int `json:"replica_divergence"`
	Duplicated  int `json:"duplicated"` // extra copies in the topic
	Reordered   int `json:"reordered"`
	Reprocessed int `json:"reprocessed"`
	// Unprocessed is counted once the run is quiet (every value settled for a second), so
	// that values on their way are not counted.
	Unprocessed int `json:"unprocessed"`
	Retries     int `json:"retries"`   // values that travelled in more than one request
	AcksLost    int `json:"acks_lost"` // broker answers the fault layer dropped
	// Settled says every value sent has an outcome.
	Settled bool `json:"settled"`
	// Quiet says the run had been settled for a while when counted: the final verdict,
	// until something happens again.
	Quiet    bool     `json:"quiet"`
	Examples []string `json:"examples,omitempty"`
}

const (
	// tallyEvery is the least time between two counts while the run changes.
	tallyEvery = 300 * time.Millisecond
	// quietAfter is how long a run must be settled before values absent from the final
	// read count as lost (not merely unseen yet) and unprocessed ones are counted.
	quietAfter = time.Second
)

// tallier decides when to count: soon after a change, and once more when the run has
// been quiet long enough for the final verdict.
type tallier struct {
	s          *session
	dirty      bool
	lastChange time.Time
	lastCount  time.Time
	countedQ   bool // counted since the run became quiet
	seen       [4]int64
}

func newTallier(s *session) *tallier { return &tallier{s: s, dirty: true} }

// changes is what the tallier watches for change: the history, the replicas, the wire.
func (t *tallier) changes() [4]int64 {
	retried, lostAcks := t.s.wire.counts()
	return [4]int64{t.s.historyVersion.Load(), t.s.replicasVersion.Load(), int64(retried), int64(lostAcks)}
}

func (t *tallier) maybeCount() {
	now := time.Now()
	seen := t.changes()
	if seen != t.seen {
		t.dirty, t.lastChange, t.countedQ, t.seen = true, now, false, seen
	}
	settled := t.s.producer.Settled()
	quiet := settled && now.Sub(t.lastChange) >= quietAfter
	switch {
	case t.dirty && now.Sub(t.lastCount) >= tallyEvery:
	case quiet && !t.countedQ:
	default:
		return
	}
	tally, err := t.s.count(quiet)
	if err != nil {
		if t.s.ctx.Err() == nil {
			t.s.log.Debug("console: counting the simulator's run", "err", err)
		}
		return // try again at the next tick
	}
	if quiet && t.changes() != seen {
		// Something happened while counting (a replica truncated under the final read):
		// not the final word, which the next ticks will count.
		quiet, tally.Quiet = false, false
	}
	t.dirty, t.lastCount = false, now
	if quiet {
		t.countedQ = true
	}
	t.s.mu.Lock()
	t.s.tally = tally
	t.s.mu.Unlock()
	e := newEvent("tally", t.s.id)
	e.Tally = &tally
	t.s.publish(e)
}

// count checks the history so far with a final read of the topic taken now.
func (s *session) count(quiet bool) (Tally, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	sent := s.sentCount()
	settled := s.producer.Settled()
	h := s.rec.History()
	readCommitted := s.settings.Transactional
	if err := lab.AddFinalRead(ctx, h, s.target.Bootstrap(), s.topic, readCommitted, quiet, 4*time.Second); err != nil {
		return Tally{}, err
	}
	if s.settings.lab().Consumer == lab.Transactional {
		// The exactly-once consumer's processing is its committed output.
		out := &lab.History{}
		if err := lab.AddFinalRead(ctx, out, s.target.Bootstrap(), s.topic+"-out", true, false, 4*time.Second); err != nil {
			return Tally{}, err
		}
		now := time.Now()
		for _, p := range out.Polls {
			for _, r := range p.Records {
				h.Processed = append(h.Processed, lab.Processed{Value: r.Value, Time: now})
			}
		}
	}
	h.ConsumersRan = true
	if quiet {
		h.Replicas = s.replicaLogs()
	}
	res := lab.Check(h)
	processed := map[string]bool{}
	for _, p := range h.Processed {
		processed[p.Value] = true
	}
	t := Tally{
		Sent: sent, Acked: res.Acked, Unknown: res.Unknown, Failed: res.Failed,
		Stored: res.Stored, Consumed: res.Consumed, Processed: len(processed),
		Lost: res.Count(lab.Lost), AckedTruncated: res.Count(lab.AckedTruncated), ReadTruncated: res.Count(lab.TruncatedRead),
		Diverged: res.Count(lab.ReplicaDivergence), Duplicated: res.Count(lab.Duplicated), Reordered: res.Count(lab.Reordered),
		Reprocessed: res.Count(lab.Reprocessed), Settled: settled, Quiet: quiet,
	}
	if quiet {
		t.Unprocessed = res.Count(lab.Unprocessed)
	}
	t.Retries, t.AcksLost = s.wire.counts()
	shown := []lab.Anomaly{lab.Lost, lab.AckedTruncated, lab.TruncatedRead, lab.ReplicaDivergence,
		lab.Duplicated, lab.Reordered, lab.Reprocessed}
	if quiet {
		shown = append(shown, lab.Unprocessed)
	}
	for _, a := range shown { // two of each, four in all: the panel explains, the log details
		for i, ex := range res.Examples[a] {
			if i == 2 || len(t.Examples) == 4 {
				break
			}
			t.Examples = append(t.Examples, string(a)+": "+ex)
		}
	}
	return t, nil
}

// replicaLogs reads every running replica of the run's topic for the checker's
// comparison, which looks below the smaller log end only: a follower still catching up
// agrees. A node cut off from the others is left out until healed: what it holds alone
// is what the lanes show it truncating then.
func (s *session) replicaLogs() []faults.ReplicaLog {
	logs, err := s.target.Cluster().ReplicaLogs(s.topic, s.settings.Partitions)
	if err != nil {
		return nil
	}
	flags := s.sandbox.nodeFlags()
	return slices.DeleteFunc(logs, func(l faults.ReplicaLog) bool { return flags[l.Node].Isolated })
}
