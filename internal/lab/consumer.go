package lab

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/waybill/waybill/internal/clientopt"
)

// ConsumerConfig configures the consuming application of a run.
type ConsumerConfig struct {
	Topic    string
	Group    string
	Strategy Strategy
	// OutputTopic receives the transformed values of the Transactional strategy.
	OutputTopic string
	// TransactionalID is shared by every incarnation of a Transactional consumer.
	TransactionalID string
	Recorder        *Recorder
	Logger          *slog.Logger
}

// Consumer is the consuming application: incarnations of a group member that poll,
// process and commit in the order their strategy says. Processing records the value in
// the history; for the Transactional strategy it produces the value to the output topic.
type Consumer struct {
	cfg ConsumerConfig

	mu        sync.Mutex
	started   int
	committed map[int32]int64 // highest offset committed with an OK outcome
	progress  chan struct{}
	gaveUp    chan *ConsumerIncarnation
}

// NewConsumer prepares the application; Start runs its first incarnation.
func NewConsumer(cfg ConsumerConfig) *Consumer {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Consumer{cfg: cfg, committed: map[int32]int64{}, progress: make(chan struct{}),
		gaveUp: make(chan *ConsumerIncarnation, 8)}
}

// GaveUp delivers each incarnation that ended on an error it could not get past (kgo's
// transactional session allows no retry of a failed transaction), for a supervisor to
// start another, as it would restart the application.
func (c *Consumer) GaveUp() <-chan *ConsumerIncarnation { return c.gaveUp }

// WaitCommitted waits until the group's commits reach ends (partition → offset after its
// last record), or ctx ends.
func (c *Consumer) WaitCommitted(ctx context.Context, ends map[int32]int64) error {
	for {
		c.mu.Lock()
		ch, caughtUp := c.progress, true
		for p, end := range ends {
			if end > 0 && c.committed[p] < end {
				caughtUp = false
			}
		}
		c.mu.Unlock()
		if caughtUp {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// ConsumerIncarnation is one run of the consuming application.
type ConsumerIncarnation struct {
	ID   int
	c    *Consumer
	stop context.CancelFunc
	done chan struct{}

	mu          sync.Mutex
	assignments map[int32]int
	crash       chan bool // a crash armed for the next poll with records: true = after its commit
	crashed     chan struct{}
	assigned    chan struct{} // closed at the first assignment of a partition
}

// Start runs a new incarnation against bootstrap. Incarnations are numbered from 1; the
// number is the Consumer field of their polls, commits and processed values.
func (c *Consumer) Start(ctx context.Context, bootstrap string) (*ConsumerIncarnation, error) {
	c.mu.Lock()
	c.started++
	id := c.started
	c.mu.Unlock()
	ctx, stop := context.WithCancel(ctx)
	ci := &ConsumerIncarnation{ID: id, c: c, stop: stop, done: make(chan struct{}),
		assignments: map[int32]int{}, crash: make(chan bool, 1), crashed: make(chan struct{}),
		assigned: make(chan struct{})}
	opts := []kgo.Opt{
		kgo.SeedBrokers(clientopt.List(bootstrap)...),
		kgo.ConsumerGroup(c.cfg.Group),
		kgo.ConsumeTopics(c.cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.MetadataMinAge(250 * time.Millisecond), // as the producers: faster, same behaviour
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			ci.mu.Lock()
			defer ci.mu.Unlock()
			for _, p := range assigned[c.cfg.Topic] {
				if len(ci.assignments) == 0 {
					close(ci.assigned)
				}
				ci.assignments[p]++
			}
		}),
	}
	if c.cfg.Strategy == Transactional {
		opts = append(opts,
			kgo.TransactionalID(c.cfg.TransactionalID),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.DefaultProduceTopic(c.cfg.OutputTopic))
		sess, err := kgo.NewGroupTransactSession(opts...)
		if err != nil {
			stop()
			return nil, err
		}
		go ci.runTransactional(ctx, sess)
		return ci, nil
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		stop()
		return nil, err
	}
	go ci.run(ctx, cl)
	return ci, nil
}

// CrashAtNextPoll arms a crash at the incarnation's next poll with records: before its
// commit or right after it. The returned channel closes when the incarnation crashed.
func (ci *ConsumerIncarnation) CrashAtNextPoll(afterCommit bool) <-chan struct{} {
	select {
	case ci.crash <- afterCommit:
	default:
	}
	return ci.crashed
}

// Assigned is closed once the group gave the incarnation its first partition.
func (ci *ConsumerIncarnation) Assigned() <-chan struct{} { return ci.assigned }

// Stop ends the incarnation gracefully and waits for it.
func (ci *ConsumerIncarnation) Stop() {
	ci.stop()
	<-ci.done
}

// Done is closed when the incarnation ended.
func (ci *ConsumerIncarnation) Done() <-chan struct{} { return ci.done }

// crashPoint reports whether a crash is armed for this poll, and whether after commit.
func (ci *ConsumerIncarnation) crashPoint() (armed, afterCommit bool) {
	select {
	case after := <-ci.crash:
		return true, after
	default:
		return false, false
	}
}

// record adds the polls of fetches to the history and returns their records.
func (ci *ConsumerIncarnation) record(fetches kgo.Fetches, readCommitted bool) []*kgo.Record {
	now := time.Now()
	var recs []*kgo.Record
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		ci.mu.Lock()
		assignment := ci.assignments[fp.Partition]
		ci.mu.Unlock()
		poll := Poll{Consumer: ci.ID, Partition: fp.Partition, Assignment: assignment,
			ReadCommitted: readCommitted, Time: now}
		for _, r := range fp.Records {
			poll.Records = append(poll.Records, Record{Offset: r.Offset, Value: string(r.Value)})
			recs = append(recs, r)
		}
		ci.c.cfg.Recorder.Poll(poll)
	})
	fetches.EachError(func(t string, p int32, err error) {
		ci.c.cfg.Logger.Debug("lab: poll error", "consumer", ci.ID, "partition", p, "err", err)
	})
	return recs
}

// rewound starts a new assignment of every partition: an aborted transaction sends the
// session back to the committed offsets, so that the next polls go back legitimately.
func (ci *ConsumerIncarnation) rewound() {
	ci.mu.Lock()
	defer ci.mu.Unlock()
	for p := range ci.assignments {
		ci.assignments[p]++
	}
}

// committed records the commit of recs with its outcome.
func (ci *ConsumerIncarnation) committed(recs []*kgo.Record, err error) {
	next := map[int32]int64{}
	for _, r := range recs {
		if r.Offset+1 > next[r.Partition] {
			next[r.Partition] = r.Offset + 1
		}
	}
	outcome := OutcomeOf(err)
	c := ci.c
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for p, off := range next {
		c.cfg.Recorder.Commit(Commit{Consumer: ci.ID, Partition: p, Offset: off, Outcome: outcome, Time: now})
		if outcome == OK && off > c.committed[p] {
			c.committed[p] = off
		}
	}
	close(c.progress)
	c.progress = make(chan struct{})
}

func (ci *ConsumerIncarnation) process(recs []*kgo.Record) {
	now := time.Now()
	for _, r := range recs {
		ci.c.cfg.Recorder.Processed(Processed{Consumer: ci.ID, Value: string(r.Value), Time: now})
	}
}

// run is the at-most-once and at-least-once loop.
func (ci *ConsumerIncarnation) run(ctx context.Context, cl *kgo.Client) {
	defer close(ci.done)
	crash := func() { close(ci.crashed) } // the deferred Close ends the client without a commit
	defer cl.Close()
	for ctx.Err() == nil {
		recs := ci.record(cl.PollFetches(ctx), false)
		if len(recs) == 0 {
			continue
		}
		armed, afterCommit := ci.crashPoint()
		var commitErr error
		commit := func() bool {
			commitErr = cl.CommitRecords(ctx, recs...)
			ci.committed(recs, commitErr)
			if armed && afterCommit {
				crash()
				return false
			}
			return true
		}
		if ci.c.cfg.Strategy == CommitBeforeProcess {
			if armed && !afterCommit {
				crash()
				return
			}
			if !commit() {
				return
			}
			// At most once: a poll whose commit is not known to have happened is dropped,
			// since the group may hand its records out again (after a coordinator's
			// fail-over, say) and processing them now could make that twice.
			if commitErr == nil {
				ci.process(recs)
			}
			continue
		}
		ci.process(recs)
		if armed && !afterCommit {
			crash()
			return
		}
		if !commit() {
			return
		}
	}
}

// runTransactional is the exactly-once loop: each poll's values go to the output topic
// in a transaction that also commits the poll's offsets.
func (ci *ConsumerIncarnation) runTransactional(ctx context.Context, sess *kgo.GroupTransactSession) {
	defer close(ci.done)
	defer sess.Close()
	for ctx.Err() == nil {
		recs := ci.record(sess.PollFetches(ctx), true)
		if len(recs) == 0 {
			continue
		}
		armed, afterCommit := ci.crashPoint()
		if err := sess.Begin(); err != nil {
			ci.c.cfg.Logger.Warn("lab: begin transaction", "consumer", ci.ID, "err", err)
			if ctx.Err() == nil {
				ci.c.gaveUp <- ci
			}
			return
		}
		for _, r := range recs {
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: r.Value}, nil)
		}
		if armed && !afterCommit {
			close(ci.crashed)
			return
		}
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err == nil && !committed {
			err = errAborted
		}
		ci.committed(recs, err)
		if !committed {
			ci.rewound()
		}
		if armed && afterCommit {
			close(ci.crashed)
			return
		}
	}
}
