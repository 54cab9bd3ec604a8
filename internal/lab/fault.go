package lab

import (
	"context"
	"fmt"
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
	// Explain is the report's one line on what the fault does and what each row should
	// show under it.
	Explain string `json:"explain"`
	// PageCache runs the cell's topics with waybill.durable.acks=false, Kafka's page-cache
	// acknowledgement.
	PageCache bool `json:"page_cache,omitempty"`
	// Process: on a cluster the lab starts for the cell, its nodes run as child processes,
	// so that the fault is a real kill -9 or SIGTERM.
	Process bool `json:"process,omitempty"`
	// QuorumOfOne: on a cluster the lab starts for the cell, node 1 alone votes in the
	// metadata quorum, so that the controller survives the death of two other nodes.
	QuorumOfOne bool `json:"quorum_of_one,omitempty"`
	// TopicConfigs are set on the cell's topics.
	TopicConfigs map[string]string `json:"topic_configs,omitempty"`
	// Replicas places every partition of the cell's input topic on these nodes, the
	// first leading, when the fault needs to know where the replicas are.
	Replicas []int32 `json:"replicas,omitempty"`
	// NoRefusals: a send the client had to give up on (an error it could not retry)
	// breaks the row's promise, whatever the checker counts.
	NoRefusals bool `json:"no_refusals,omitempty"`
	// MayStall: the fault breaks promises a transaction relies on, so that producers may
	// never finish; they are stopped after a while and the cell judged on what happened.
	MayStall bool `json:"may_stall,omitempty"`
	needs    Capabilities
	expect   func(row Settings, on Capabilities) Expectation
	inject   func(ctx context.Context, c *cellRun) error
}

// Expect is what the fault should do to the row's settings on a target with these
// capabilities: a leader change costs acks=1 nothing on a single node, where there is
// no other replica to take over.
func (f Fault) Expect(row Settings, on Capabilities) Expectation { return f.expect(row, on) }

func (f Fault) unsupported(t Target) string {
	has := t.Capabilities()
	switch {
	case f.needs.Nodes > 1 && has.Nodes == 0:
		return "the lab does not control this cluster's brokers"
	case f.needs.Nodes > has.Nodes:
		return fmt.Sprintf("needs a replicated cluster of %d nodes, and the target has %d (run with --nodes 3)", f.needs.Nodes, has.Nodes)
	case f.needs.Crash && !has.Crash:
		return "the target's brokers cannot be crashed from here"
	case f.needs.PowerLoss && !has.PowerLoss:
		return "the target's brokers cannot lose power from here"
	case f.needs.Links && !has.Links:
		return "needs an in-process cluster whose nodes the lab can cut off from each other"
	case f.needs.ControlledShutdown && !has.ControlledShutdown:
		return "the target's brokers cannot be restarted from here"
	case f.PageCache && !has.DurableAcksConfig:
		return "the target has no waybill.durable.acks setting"
	}
	return ""
}

// DisturbsBroker is true of faults that stop, crash or power off a broker, which every
// cell running on that broker would feel.
func (f Fault) DisturbsBroker() bool {
	return f.needs.Crash || f.needs.PowerLoss || f.needs.Links || f.needs.ControlledShutdown
}

// Replicated reports whether the fault needs a replicated cluster.
func (f Fault) Replicated() bool { return f.needs.Nodes > 1 }

// replicated are the needs of a fault that acts on one replica of three.
var replicated = Capabilities{Nodes: 3, Links: true}

// Faults are the columns of the matrix, in order.
var Faults = []Fault{
	{ID: "none", Name: "none", Explain: "nothing goes wrong",
		expect: anyTarget(allowedOnly), inject: plainRun},
	{ID: "lost-ack", Name: "lost ack", Explain: "Produce answers vanish: a retry without idempotence stores the value twice",
		expect: anyTarget(duplicatesWithoutIdempotence), inject: lostAcks},
	{ID: "dropped-request", Name: "dropped request", Explain: "Produce requests vanish: acks=0 never knows and loses them",
		expect: anyTarget(lossWithoutAcks), inject: droppedRequests},
	{ID: "cut-mid-batch", Name: "connection cut mid-batch", Explain: "connections cut with requests in flight: acks=0 loses them",
		expect: anyTarget(lossWithoutAcks), inject: cutMidBatch},
	{ID: "kill-9", Name: "leader kill -9", Process: true, needs: Capabilities{Crash: true},
		Explain: "the partition leader's broker is killed and restarts; on a cluster another replica takes over, and acks=1 may lose what the dead leader alone had",
		expect:  failoverCosts(allowedOnly), inject: brokerCrash},
	{ID: "leader-isolated-killed", Name: "leader isolated, then killed", needs: replicated,
		Explain: "the leader is cut off from its followers and the controller while clients still reach it, then killed: what it acknowledged alone under acks=1 is lost; acks=all waits and retries on the new leader",
		expect:  anyTarget(lossOnDeposedLeader), inject: leaderIsolated(true)},
	{ID: "leader-isolated-healed", Name: "leader isolated, then healed", needs: replicated,
		Explain: "the same, but the old leader comes back and truncates what it acknowledged alone: acks=1 loses it, acks=all loses nothing",
		expect:  anyTarget(lossOnDeposedLeader), inject: leaderIsolated(false)},
	{ID: "slow-follower", Name: "slow follower", needs: replicated,
		Explain: "a follower's fetches are held back until it leaves the ISR, then it catches up: acks=all goes on with 2 of 3 in sync, nothing lost",
		expect:  anyTarget(allowedOnly), inject: slowFollowers(1)},
	{ID: "isr-1", Name: "two slow followers (ISR 1)", needs: replicated,
		Explain: "both followers leave the ISR: acks=all is refused with NOT_ENOUGH_REPLICAS (min.insync.replicas=2) and retried until they are back, nothing lost",
		expect:  anyTarget(allowedOnly), inject: slowFollowers(2)},
	{ID: "power-loss", Name: "power loss", needs: Capabilities{PowerLoss: true},
		Explain: "every broker loses power at once and restarts on what it fsynced: with durable acks nothing acknowledged is lost, but on a cluster acks=1 may lose what a new leader never copied",
		expect:  failoverCosts(allowedOnly), inject: powerLoss},
	{ID: "power-loss-page-cache", Name: "power loss, durable acks off", PageCache: true, MayStall: true, needs: Capabilities{PowerLoss: true},
		Explain: "the same with waybill.durable.acks=false (Kafka's page-cache acks): acknowledged data that was never fsynced vanishes, for every row",
		expect:  anyTarget(anythingButAbortedReads), inject: powerLoss},
	{ID: "controller-kill-9", Name: "controller kill -9", Process: true, needs: Capabilities{Nodes: 3, Crash: true},
		Explain: "the active controller (Raft leader) is killed while a topic is created and values produced: another voter takes over and the topic is created; the node led partitions too, so acks=1 may lose",
		expect:  anyTarget(failoverAllowed), inject: controllerKill},
	{ID: "rolling-restart", Name: "rolling restart (SIGTERM)", Process: true, NoRefusals: true,
		needs:   Capabilities{Nodes: 3, ControlledShutdown: true},
		Explain: "every node in turn is stopped by SIGTERM and restarted: its leaderships move only once the followers have everything, so nothing acknowledged is lost (acks=1 included), and no client meets an error it could not retry",
		expect:  anyTarget(failoverAllowed), inject: rollingRestart},
	{ID: "unclean-election", Name: "unclean leader election", needs: replicated, QuorumOfOne: true, MayStall: true,
		TopicConfigs: map[string]string{"unclean.leader.election.enable": "true"}, Replicas: []int32{2, 3, 1},
		Explain: "with unclean.leader.election.enable=true, both in-sync replicas die and the out-of-sync one is elected: what only they had is lost, acks=all included: the cost of that setting",
		expect:  anyTarget(lossForEveryRow), inject: uncleanElection},
	{ID: "zombie", Name: "zombie producer", Explain: "a frozen producer's replacement resends its values, then it wakes: only transactions fence it",
		expect: anyTarget(duplicatesWithoutTransactions), inject: zombieProducer},
	{ID: "producer-crash", Name: "producer crash mid-transaction", Explain: "a producer crashes with answers lost and its replacement resends: only transactions avoid duplicates",
		expect: anyTarget(duplicatesWithoutTransactions), inject: producerCrash},
	{ID: "consumer-crash-before-commit", Name: "consumer crash before commit", Explain: "a consumer dies after processing, before committing: at-least-once consumers process again",
		expect: anyTarget(reprocessedAtLeastOnce), inject: consumerCrash(false)},
	{ID: "consumer-crash-after-commit", Name: "consumer crash after commit", Explain: "a consumer dies after committing, before processing: at-most-once consumers skip values",
		expect: anyTarget(unprocessedAtMostOnce), inject: consumerCrash(true)},
}

// SingleNodeFaults are the columns that apply to one broker: the others need a
// replicated cluster.
func SingleNodeFaults() []Fault {
	return slices.DeleteFunc(slices.Clone(Faults), Fault.Replicated)
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

// anyTarget is an expectation the same on one node and on a cluster.
func anyTarget(e func(Settings) Expectation) func(Settings, Capabilities) Expectation {
	return func(row Settings, _ Capabilities) Expectation { return e(row) }
}

// failoverCosts is e on a single node and failoverAllowed's on a cluster, where the
// fault changes leaders.
func failoverCosts(e func(Settings) Expectation) func(Settings, Capabilities) Expectation {
	return func(row Settings, on Capabilities) Expectation {
		if on.Nodes > 1 {
			return failoverAllowed(row)
		}
		return e(row)
	}
}

// failoverAllowed is what a leader change may cost: acks=1 is answered by the leader
// alone, so a new leader may lack values the old one acknowledged, and its offsets then
// hold other values. acks=all is answered once every in-sync replica has the value, and
// a new leader comes from the ISR: nothing acknowledged is lost.
func failoverAllowed(row Settings) Expectation {
	e := allowedOnly(row)
	if row.Acks == 1 {
		e.Allowed = with(e.Allowed, leaderChangeCosts...)
	}
	return e
}

// leaderChangeCosts are the anomalies of acknowledged values that a deposed leader alone
// held: lost, and their offsets reused for other values.
var leaderChangeCosts = []Anomaly{Lost, AckedTruncated, InconsistentOffsets}

// lossOnDeposedLeader: a leader cut off from its followers goes on acknowledging acks=0
// and acks=1 writes that no follower copies; the new leader never had them.
func lossOnDeposedLeader(row Settings) Expectation {
	e := failoverAllowed(row)
	if row.Acks != -1 {
		e.Allowed = with(e.Allowed, leaderChangeCosts...)
		e.Expected = []Anomaly{Lost}
	}
	return e
}

// lossForEveryRow: an unclean election makes a replica leader that lacks acknowledged
// values, whatever acks waited for; no promise holds across it.
func lossForEveryRow(Settings) Expectation {
	return Expectation{Allowed: slices.DeleteFunc(slices.Clone(Anomalies), func(a Anomaly) bool { return a == Lost }),
		Expected: []Anomaly{Lost}}
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
	if c.cluster() != nil {
		return leaderKill(ctx, c)
	}
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
