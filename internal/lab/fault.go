package lab

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
)

// Fault is one column of the guarantee matrix: what goes wrong while the workload runs.
type Fault struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// PageCache runs the cell's topics with waybill.durable.acks=false, Kafka's page-cache
	// acknowledgement.
	PageCache bool `json:"page_cache,omitempty"`
	needs     Capabilities
	expect    func(row Settings) Expectation
	inject    func(ctx context.Context, c *cellRun) error
}

// Expect is what the fault should do to the row's settings.
func (f Fault) Expect(row Settings) Expectation { return f.expect(row) }

func (f Fault) unsupported(t Target) string {
	has := t.Capabilities()
	switch {
	case f.needs.Crash && !has.Crash:
		return "the target's brokers cannot be crashed from here"
	case f.needs.PowerLoss && !has.PowerLoss:
		return "the target's brokers cannot lose power from here"
	case f.PageCache && !has.DurableAcksConfig:
		return "the target has no waybill.durable.acks setting"
	}
	return ""
}

// DisturbsBroker is true of faults that crash or power off the broker, which every cell
// running on that broker would feel.
func (f Fault) DisturbsBroker() bool { return f.needs.Crash || f.needs.PowerLoss }

// Faults are the columns of the matrix, in order.
var Faults = []Fault{
	{ID: "none", Name: "none", expect: allowedOnly, inject: plainRun},
	{ID: "lost-ack", Name: "lost ack", expect: duplicatesWithoutIdempotence, inject: lostAcks},
	{ID: "dropped-request", Name: "dropped request", expect: lossWithoutAcks, inject: droppedRequests},
	{ID: "cut-mid-batch", Name: "connection cut mid-batch", expect: lossWithoutAcks, inject: cutMidBatch},
	{ID: "kill-9", Name: "broker kill -9", needs: Capabilities{Crash: true}, expect: allowedOnly, inject: brokerCrash},
	{ID: "power-loss", Name: "power loss", needs: Capabilities{PowerLoss: true}, expect: allowedOnly, inject: powerLoss},
	{ID: "power-loss-page-cache", Name: "power loss, durable acks off", PageCache: true,
		needs: Capabilities{PowerLoss: true}, expect: anythingButAbortedReads, inject: powerLoss},
	{ID: "zombie", Name: "zombie producer", expect: duplicatesWithoutTransactions, inject: zombieProducer},
	{ID: "producer-crash", Name: "producer crash mid-transaction", expect: duplicatesWithoutTransactions, inject: producerCrash},
	{ID: "consumer-crash-before-commit", Name: "consumer crash before commit", expect: reprocessedAtLeastOnce, inject: consumerCrash(false)},
	{ID: "consumer-crash-after-commit", Name: "consumer crash after commit", expect: unprocessedAtMostOnce, inject: consumerCrash(true)},
}

// FaultByID finds a column of the matrix.
func FaultByID(id string) (Fault, bool) {
	for _, f := range Faults {
		if f.ID == id {
			return f, true
		}
	}
	return Fault{}, false
}

// allowed is what a row's guarantee permits under any fault it covers.
func allowed(row Settings) []Anomaly {
	switch {
	case row.Acks == 0:
		return []Anomaly{Lost, Unprocessed} // at-most-once, producing and consuming
	case row.Transactional:
		return nil
	case row.Idempotent:
		return []Anomaly{Reprocessed} // an at-least-once consumer
	default:
		return []Anomaly{Duplicated, Reordered, Reprocessed}
	}
}

// with adds anomalies to a list, each once.
func with(list []Anomaly, more ...Anomaly) []Anomaly {
	for _, a := range more {
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

func allowedOnly(row Settings) Expectation { return Expectation{Allowed: allowed(row)} }

// A lost ack makes a retrying producer send again what the broker already stored.
func duplicatesWithoutIdempotence(row Settings) Expectation {
	e := allowedOnly(row)
	if row.Acks != 0 && !row.Idempotent {
		e.Expected = []Anomaly{Duplicated}
	}
	return e
}

// A request that never arrives is lost when nothing waits for its answer.
func lossWithoutAcks(row Settings) Expectation {
	e := allowedOnly(row)
	if row.Acks == 0 {
		e.Expected = []Anomaly{Lost}
	}
	return e
}

// Idempotence dedupes one producer's retries only; a second producer resending the
// first one's unconfirmed values duplicates them unless transactions fence the first, and
// consumers then process both copies. With acks=0 a value counts as confirmed once
// written to the socket, so whether any is resent depends on the moment.
func duplicatesWithoutTransactions(row Settings) Expectation {
	e := allowedOnly(row)
	if row.Transactional {
		return e
	}
	e.Allowed = with(e.Allowed, Duplicated, Reprocessed)
	if row.Acks != 0 {
		e.Expected = []Anomaly{Duplicated}
	}
	return e
}

func reprocessedAtLeastOnce(row Settings) Expectation {
	e := allowedOnly(row)
	if row.Consumer == CommitAfterProcess {
		e.Expected = []Anomaly{Reprocessed}
	}
	return e
}

func unprocessedAtMostOnce(row Settings) Expectation {
	e := allowedOnly(row)
	if row.Consumer == CommitBeforeProcess {
		e.Expected = []Anomaly{Unprocessed}
	}
	return e
}

// Acknowledging from the page cache promises nothing across a power loss: acked values
// vanish and offsets are reused. Reads of aborted or uncommitted values stay forbidden.
func anythingButAbortedReads(row Settings) Expectation {
	e := Expectation{Expected: []Anomaly{Lost}}
	for _, a := range Anomalies {
		if a != Lost && a != AbortedRead && a != PrecommittedRead && a != Unseen {
			e.Allowed = append(e.Allowed, a)
		}
	}
	return e
}

// hitAt chooses which matching frame a fault hits first, from the seed, so that runs
// with the same seed hit the same frames.
func hitAt(seed int64, base int) int { return base + int(uint64(seed)%4) }

func plainRun(ctx context.Context, c *cellRun) error {
	_, err := c.startProducer(ctx, c.bootstrap)
	return err
}

func lostAcks(ctx context.Context, c *cellRun) error {
	n := hitAt(c.cfg.Seed, 3)
	c.net.SetRule(faults.DropResponses(int16(kmsg.Produce), faults.Every(n, 3)))
	c.note("every %d-th Produce response dropped, 3 times", n)
	return plainRun(ctx, c)
}

func droppedRequests(ctx context.Context, c *cellRun) error {
	n := hitAt(c.cfg.Seed, 3)
	c.net.SetRule(faults.DropRequests(int16(kmsg.Produce), faults.Every(n, 3)))
	c.note("every %d-th Produce request dropped, 3 times", n)
	return plainRun(ctx, c)
}

// cutMidBatch holds Produce responses back a little, so several requests are in flight,
// some already written, when the connection is cut under the next one.
func cutMidBatch(ctx context.Context, c *cellRun) error {
	n := hitAt(c.cfg.Seed, 3)
	produce := int16(kmsg.Produce)
	c.net.SetRule(faults.Rules(
		faults.CutConnections(faults.ToBroker, produce, faults.Every(n, 2)),
		faults.DelayFrames(faults.ToClient, produce, 20*time.Millisecond, faults.Always()),
	))
	c.note("connection cut at every %d-th Produce request, twice, with responses 20 ms late", n)
	return plainRun(ctx, c)
}

// atThird waits until a third of the values are confirmed, the moment faults that act
// once strike.
func atThird(ctx context.Context, c *cellRun) error {
	return c.producer.WaitConfirmed(ctx, max(1, c.cfg.Values/3))
}

func brokerCrash(ctx context.Context, c *cellRun) error {
	if err := plainRun(ctx, c); err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
		return err
	}
	start := time.Now()
	if err := c.target.Crash(ctx); err != nil {
		return err
	}
	c.note("broker crashed after %d values confirmed, back in %s", c.producer.Confirmed(), time.Since(start).Round(time.Millisecond))
	return nil
}

func powerLoss(ctx context.Context, c *cellRun) error {
	if err := plainRun(ctx, c); err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
		return err
	}
	if err := c.target.PowerLoss(ctx); err != nil {
		return err
	}
	c.note("power lost after %d values confirmed", c.producer.Confirmed())
	return nil
}

// waitFor checks cond every few milliseconds until it holds or limit passes; for states
// that nothing announces, such as a client filling its window.
func waitFor(ctx context.Context, limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// zombieProducer freezes the first producer's network with requests in flight, lets a
// second incarnation resend what the first never saw confirmed, then wakes the first.
func zombieProducer(ctx context.Context, c *cellRun) error {
	net, err := c.target.ClientNetwork()
	if err != nil {
		return err
	}
	defer net.Close()
	first, err := c.startProducer(ctx, net.Bootstrap())
	if err != nil {
		return err
	}
	if err := atThird(ctx, c); err != nil {
		return err
	}
	// Frozen first, then given time to fill its window: the zombie then holds a full
	// window of values the broker has not seen yet.
	net.Pause()
	full := min(c.producer.cfg.Window, c.cfg.Values/2)
	if c.row.Transactional {
		full = c.producer.cfg.TxnSize
	}
	waitFor(ctx, 2*time.Second, func() bool { return first.Holding() >= full })
	held := first.Holding()
	first.Retire()
	second, err := c.startProducer(ctx, c.bootstrap)
	if err != nil {
		net.Resume()
		return err
	}
	err = second.Wait(ctx)
	net.Resume()
	if err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if first.Wait(waitCtx) != nil {
		first.Crash()
	}
	c.note("producer 1 frozen after %d values confirmed, holding %d; producer 2 resent them; producer 1 woke up", c.cfg.Values/3, held)
	return nil
}

// producerCrash black-holes the first producer's Produce responses after a third of its
// requests, so requests the broker wrote are unanswered (inside an open transaction when
// transactional), crashes it, and starts a second incarnation that resends what the first
// never saw confirmed.
func producerCrash(ctx context.Context, c *cellRun) error {
	net, err := c.target.ClientNetwork()
	if err != nil {
		return err
	}
	defer net.Close()
	silenced := make(chan struct{})
	var once sync.Once
	net.Observe(func(e faults.Event) {
		if e.Action == faults.BlackHole {
			once.Do(func() { close(silenced) })
		}
	})
	if c.row.Acks != 0 {
		net.SetRule(faults.BlackHoleFrames(faults.ToClient, int16(kmsg.Produce), faults.Nth(hitAt(c.cfg.Seed, 4), 1<<30)))
	}
	first, err := c.startProducer(ctx, net.Bootstrap())
	if err != nil {
		return err
	}
	if c.row.Acks == 0 { // nothing answers acks=0: crash at a third
		err = atThird(ctx, c)
	} else {
		select {
		case <-silenced:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	first.Crash()
	c.note("producer 1 crashed with %d values confirmed and its later Produce answers lost; producer 2 resent the rest", c.producer.Confirmed())
	_, err = c.startProducer(ctx, c.bootstrap)
	return err
}

// consumerCrash crashes the consumer at a poll once a third of the values are confirmed,
// before or after that poll's commit, and starts a new incarnation.
func consumerCrash(afterCommit bool) func(context.Context, *cellRun) error {
	return func(ctx context.Context, c *cellRun) error {
		if err := plainRun(ctx, c); err != nil {
			return err
		}
		if err := atThird(ctx, c); err != nil {
			return err
		}
		ci := c.currentConsumer()
		select {
		case <-ci.CrashAtNextPoll(afterCommit):
		case <-ctx.Done():
			return ctx.Err()
		}
		<-ci.Done()
		if _, err := c.startConsumer(ctx); err != nil {
			return err
		}
		when := "before"
		if afterCommit {
			when = "after"
		}
		c.note("consumer %d crashed %s committing a poll", ci.ID, when)
		return nil
	}
}
