package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/waybill/waybill/internal/clientopt"
	"github.com/waybill/waybill/internal/faults"
)

// CellConfig sizes one run of a cell.
type CellConfig struct {
	Values     int           // distinct values the producer delivers
	Partitions int32         // of the input topic
	Timeout    time.Duration // bounds the whole cell
	Seed       int64         // chooses the moments faults hit
	Logger     *slog.Logger
	run        string // names this matrix run's topics (newRunTag); one per RunCell if empty
}

// CellResult is one cell of the matrix: what happened and how it compares with the
// expectation.
type CellResult struct {
	Row         string        `json:"row"`
	Fault       string        `json:"fault"`
	Expectation Expectation   `json:"expectation"`
	Expected    string        `json:"expected"` // Expectation.Label()
	Verdict     Verdict       `json:"verdict"`
	Disagreeing []Anomaly     `json:"disagreeing,omitempty"` // outside the allowed, or expected but missing
	Result      Result        `json:"result"`
	Note        string        `json:"note,omitempty"` // why skipped or broken, or how the fault was injected
	Duration    time.Duration `json:"duration_ns"`
	Topic       string        `json:"topic,omitempty"`
}

// cellRun is one cell in progress: the applications and the target they run against.
type cellRun struct {
	cfg    CellConfig
	target Target
	// net is the cell's own proxy, in front of the target, and bootstrap its address:
	// every client of the cell goes through it, so the cell's network faults (rules, cuts,
	// pauses) hit the cell's connections and no other cell's.
	net       ClientNetwork
	bootstrap string
	row       Settings
	topic     string
	rec       *Recorder
	producer  *Producer
	consumer  *Consumer

	mu        sync.Mutex
	producers []*Incarnation
	consumerI *ConsumerIncarnation
	notes     []string
}

func (c *cellRun) note(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// startProducer starts a producer incarnation against bootstrap.
func (c *cellRun) startProducer(ctx context.Context, bootstrap string) (*Incarnation, error) {
	in, err := c.producer.Start(ctx, bootstrap)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.producers = append(c.producers, in)
	c.mu.Unlock()
	return in, nil
}

// startConsumer starts a consumer incarnation and makes it the current one.
func (c *cellRun) startConsumer(ctx context.Context) (*ConsumerIncarnation, error) {
	ci, err := c.consumer.Start(ctx, c.bootstrap)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.consumerI = ci
	c.mu.Unlock()
	return ci, nil
}

func (c *cellRun) currentConsumer() *ConsumerIncarnation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.consumerI
}

// incarnations are the producer incarnations started so far.
func (c *cellRun) incarnations() []*Incarnation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.producers)
}

// waitProducers waits until every value is settled and every incarnation ended. After a
// fault that may leave producers stuck for good (a transaction whose markers an unclean
// election erased), it waits stallLimit at most, then crashes the producers: what they
// never learned the fate of counts as unknown, and the checker judges the rest.
func (c *cellRun) waitProducers(ctx context.Context, mayStall bool) error {
	waitCtx := ctx
	if mayStall {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, stallLimit)
		defer cancel()
	}
	if err := c.producer.WaitConfirmed(waitCtx, c.cfg.Values); err != nil {
		if !mayStall || ctx.Err() != nil {
			return fmt.Errorf("the producer did not settle every value: %w", err)
		}
		for _, in := range c.incarnations() {
			in.Crash()
		}
		c.note("the producers were stuck %s after the fault with values unsettled, and were stopped", stallLimit)
	}
	for _, in := range c.incarnations() {
		if err := in.Wait(ctx); err != nil {
			return fmt.Errorf("producer incarnation %d did not finish: %w", in.ID, err)
		}
	}
	return nil
}

// RunCell runs one cell of the matrix against target.
func RunCell(ctx context.Context, target Target, row Settings, fault Fault, cfg CellConfig) CellResult {
	start := time.Now()
	res := CellResult{Row: row.Name, Fault: fault.Name, Expectation: fault.Expect(row, target.Capabilities())}
	res.Expected = res.Expectation.Label()
	if reason := fault.unsupported(target); reason != "" {
		res.Verdict, res.Note = Skipped, reason
		return res
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	run, err := newCellRun(ctx, target, row, fault, cfg)
	if err == nil {
		res.Topic = run.topic
		err = run.execute(ctx, fault)
		run.net.Close()
	}
	res.Duration = time.Since(start)
	if run != nil {
		res.Note = joinNotes(run.notes)
	}
	if err != nil {
		res.Verdict = Broken
		res.Note = joinNotes(append([]string{err.Error()}, res.Note))
		return res
	}
	res.Result = Check(run.rec.History())
	res.Verdict, res.Disagreeing = res.Expectation.Judge(res.Result)
	if fault.NoRefusals && res.Result.Failed > 0 && res.Verdict != Violated {
		res.Verdict = Violated
		res.Note = joinNotes([]string{fmt.Sprintf("%d sends failed with an error the client could not retry", res.Result.Failed), res.Note})
	}
	return res
}

func joinNotes(notes []string) string {
	out := ""
	for _, n := range notes {
		if n == "" {
			continue
		}
		if out != "" {
			out += "; "
		}
		out += n
	}
	return out
}

// runSeq numbers the runs of a process, for newRunTag.
var runSeq atomic.Int64

// newRunTag names one run's topics, groups and transactional ids apart from every other
// run's, in this process (a counter) and on a long-lived cluster audited again with the
// same seed (the time). Names play no part in a cell's randomness.
func newRunTag() string {
	return strconv.FormatInt(time.Now().UnixMilli()%(36*36*36*36*36*36), 36) + strconv.FormatInt(runSeq.Add(1), 36)
}

// newCellRun gives the cell its own network and topics. The names depend on the run, the
// row and the fault only, never on the order cells happen to start in.
func newCellRun(ctx context.Context, target Target, row Settings, fault Fault, cfg CellConfig) (c *cellRun, err error) {
	if cfg.run == "" {
		cfg.run = newRunTag()
	}
	name := fmt.Sprintf("lab-%d-%s-%s-%s", cfg.Seed, cfg.run, row.ID, fault.ID)
	net, err := target.ClientNetwork()
	if err != nil {
		return nil, fmt.Errorf("starting the cell's proxy: %w", err)
	}
	defer func() {
		if err != nil {
			net.Close()
		}
	}()
	c = &cellRun{cfg: cfg, target: target, net: net, bootstrap: net.Bootstrap(), row: row, topic: name}
	topicConfigs := map[string]*string{}
	for k, v := range fault.TopicConfigs {
		topicConfigs[k] = &v
	}
	if fault.PageCache {
		off := "false"
		topicConfigs["waybill.durable.acks"] = &off
	}
	if err := createTopic(ctx, c.bootstrap, name, cfg.Partitions, topicConfigs, fault.Replicas); err != nil {
		return nil, err
	}
	output := name + "-out"
	if row.Consumer == Transactional {
		if err := createTopic(ctx, c.bootstrap, output, cfg.Partitions, topicConfigs, nil); err != nil {
			return nil, err
		}
	}
	c.rec = NewRecorder(name, cfg.Partitions)
	c.producer = NewProducer(ProducerConfig{
		Topic: name, Settings: row, Values: cfg.Values, Prefix: "v-",
		AbortEvery: 5, TransactionalID: name + "-producer", Recorder: c.rec, Logger: cfg.Logger,
	})
	c.consumer = NewConsumer(ConsumerConfig{
		Topic: name, Group: name + "-group", Strategy: row.Consumer, OutputTopic: output,
		TransactionalID: name + "-transform", Recorder: c.rec, Logger: cfg.Logger,
	})
	return c, nil
}

// execute runs the workload with the fault and finishes with the final reads.
func (c *cellRun) execute(ctx context.Context, fault Fault) error {
	ci, err := c.startConsumer(ctx)
	if err != nil {
		return err
	}
	defer func() { c.currentConsumer().Stop() }()
	superviseCtx, stopSupervising := context.WithCancel(ctx)
	defer stopSupervising()
	go c.supervise(superviseCtx)
	// The consumer joins its group before the producer starts, so that it consumes while
	// values arrive and faults strike mid-stream, however long the group takes to form
	// (group.initial.rebalance.delay.ms is 3 s by default).
	select {
	case <-ci.Assigned():
	case <-time.After(30 * time.Second):
		c.note("the consumer had no partition 30 s after it started")
	case <-ctx.Done():
		return ctx.Err()
	}
	injected := make(chan error, 1)
	go func() { injected <- fault.inject(ctx, c) }()
	if err := <-injected; err != nil {
		return fmt.Errorf("injecting %s: %w", fault.Name, err)
	}
	if err := c.waitProducers(ctx, fault.MayStall); err != nil {
		return err
	}
	if err := awaitCommitted(ctx, c.target.Bootstrap(), c.topic, replicasSettle); err != nil {
		c.note("the cluster had not committed everything it holds when the final read began: %v", err)
	}
	inputRC := c.row.Transactional
	if err := c.drain(ctx, inputRC); err != nil {
		return err
	}
	c.currentConsumer().Stop()
	if err := ReadFinal(ctx, c.rec, c.bootstrap, c.topic, inputRC, 10*time.Second); err != nil {
		return err
	}
	if c.row.Consumer == Transactional {
		if err := awaitCommitted(ctx, c.target.Bootstrap(), c.topic+"-out", replicasSettle); err != nil {
			c.note("the cluster had not committed all the output when its final read began: %v", err)
		}
		out, err := readAll(ctx, c.bootstrap, c.topic+"-out", true, 10*time.Second)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, recs := range out.records {
			for _, r := range recs {
				c.rec.Processed(Processed{Value: r.Value, Time: now})
			}
		}
	}
	c.rec.ConsumersRan()
	c.readReplicas(ctx)
	return nil
}

// replicaReader is a target whose replicas the lab can read after a cell.
type replicaReader interface {
	ReplicaLogs(ctx context.Context, topic string, partitions int32) ([]faults.ReplicaLog, error)
}

// readReplicas reads every replica of the input topic, once the cluster settled, for
// the checker to compare batch by batch.
func (c *cellRun) readReplicas(ctx context.Context) {
	r, ok := c.target.(replicaReader)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, replicasSettle)
	defer cancel()
	logs, err := r.ReplicaLogs(ctx, c.topic, c.cfg.Partitions)
	if err != nil {
		c.note("the replicas could not be read: %v", err)
		return
	}
	c.rec.Replicas(logs)
}

// replicasSettle bounds the wait for every replica to catch up before they are compared.
const replicasSettle = 10 * time.Second

// drain lets the consumers catch up: until their commits cover every record stored, or
// drainLimit. What is stored can still grow after the producers settled (acks=0 records on their
// way, transaction markers the coordinator writes after answering the commit), so the log
// is read again after each catch-up until it stops changing. What the consumers then
// missed is the checker's to count.
//
// An acks=0 value counts as settled once written to the socket, and nothing says when
// the broker has it: on a busy machine the first reads can find the log still empty and
// stop the consumers before anything arrived. So with acks=0 the log must also stay
// unchanged for acksZeroSettle.
func (c *cellRun) drain(ctx context.Context, readCommitted bool) error {
	limit := drainLimit
	if c.target.Capabilities().Nodes > 1 {
		limit = clusterDrainLimit
	}
	drainCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	settle := time.Duration(0)
	if c.row.Acks == 0 {
		settle = acksZeroSettle
	}
	var last map[int32]int64
	var since time.Time // when the read that first found last began
	for {
		readAt := time.Now()
		early, err := readAll(ctx, c.bootstrap, c.topic, readCommitted, 10*time.Second)
		if err != nil {
			return err
		}
		if last != nil && maps.Equal(early.ends, last) {
			wait := settle - readAt.Sub(since)
			if wait <= 0 {
				return nil
			}
			select {
			case <-time.After(wait):
				continue
			case <-drainCtx.Done():
				c.note("the cell ended before its log had settled")
				return nil
			}
		}
		if err := c.consumer.WaitCommitted(drainCtx, early.ends); err != nil {
			c.note("the consumers had not committed everything when the cell ended")
			return nil
		}
		last, since = early.ends, readAt
	}
}

// stallLimit bounds the wait for producers that a fault may have left stuck for good.
const stallLimit = 15 * time.Second

// drainLimit bounds the consumers' catching up after the producers settled; on a cluster
// whose group coordinator a fault moved (a leader killed or cut off), the consumers
// first find the new coordinator and rejoin their group, which kgo does within its
// session timeouts, so they get longer there.
const (
	drainLimit        = 10 * time.Second
	clusterDrainLimit = 30 * time.Second
)

// acksZeroSettle is how long an acks=0 cell's log must stay unchanged before the values
// on their way to the broker count as arrived or lost: ample for a hop through the
// proxies on a loaded machine, short beside a cell.
const acksZeroSettle = 250 * time.Millisecond

// createTopic creates topic with the cluster's default replication factor, or, given
// replicas, every partition on those nodes, the first its preferred leader (a manual
// assignment, which kadm's CreateTopic does not take).
func createTopic(ctx context.Context, bootstrap, topic string, partitions int32, configs map[string]*string, replicas []int32) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(bootstrap)...))
	if err != nil {
		return err
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10_000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, -1
	if replicas != nil {
		rt.NumPartitions = -1
		for p := range partitions {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition, a.Replicas = p, replicas
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
		}
	}
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, v
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	switch {
	case err != nil:
	case len(resp.Topics) != 1:
		err = fmt.Errorf("%d topics in the answer", len(resp.Topics))
	default:
		err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
	}
	if err != nil {
		return fmt.Errorf("creating topic %s: %w", topic, err)
	}
	return nil
}

var errUnsupported = errors.New("unsupported by this target")
