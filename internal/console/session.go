package console

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/clientopt"
	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/lab"
)

// followEvery is how often a run turns what its history recorded into events.
const followEvery = 100 * time.Millisecond

// session is one simulator run: a fresh topic on the sandbox cluster, a producing
// application on proxies of its own (so that faults and the wire watcher see its traffic
// alone) and a consuming application reaching the nodes directly, both recording into
// one history; and a watch on the topic's replicas.
type session struct {
	id       int
	settings SimSettings
	topic    string
	sandbox  *sandbox
	target   *lab.ReplicatedTarget
	hub      *hub
	publish  func(Event)
	log      *slog.Logger

	parent      context.Context // the console's: done once it closes
	ctx         context.Context
	cancel      context.CancelFunc
	net         lab.ClientNetwork
	stopObserve func()
	wire        *wire
	rec         *lab.Recorder
	producer    *lab.LiveProducer
	consumer    *lab.Consumer
	wg          sync.WaitGroup
	// historyVersion counts the follow ticks that found the history grown.
	historyVersion atomic.Int64
	// replicasVersion counts the changes of the replicas' view: a truncation changes
	// what the tally should say without anything new in the history.
	replicasVersion atomic.Int64

	mu       sync.Mutex
	prodIn   *lab.Incarnation
	consIn   *lab.ConsumerIncarnation
	sent     int
	armed    map[string]faults.Rule // network faults waiting for their frame
	crashing bool                   // a consumer crash is armed
	tally    Tally
}

// newSession creates the run's topics and starts its applications.
func newSession(ctx context.Context, id int, settings SimSettings, sb *sandbox, target *lab.ReplicatedTarget, h *hub, log *slog.Logger) (*session, error) {
	s := &session{id: id, settings: settings, sandbox: sb, target: target, hub: h, publish: h.publish, log: log,
		topic: fmt.Sprintf("sim-%d-%d", time.Now().Unix()%100000, id), armed: map[string]faults.Rule{}}
	s.parent = ctx
	s.ctx, s.cancel = context.WithCancel(ctx)
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	row := settings.lab()
	topics := []string{s.topic}
	if row.Consumer == lab.Transactional {
		topics = append(topics, s.topic+"-out")
	}
	if err := createTopics(s.ctx, target.Bootstrap(), settings, topics...); err != nil {
		return nil, err
	}
	for _, t := range topics {
		if err := awaitReplicas(s.ctx, target.Cluster(), t, 10*time.Second); err != nil {
			return nil, err
		}
	}
	net, err := target.ClientNetwork()
	if err != nil {
		return nil, fmt.Errorf("starting the producer's proxy: %w", err)
	}
	s.net = net
	s.wire = newWire(s.topic, id, s.publish, s.struck)
	s.stopObserve = net.Observe(s.wire.observe)
	s.rec = lab.NewRecorder(s.topic, settings.Partitions)
	s.producer = lab.NewLiveProducer(lab.ProducerConfig{Topic: s.topic, Settings: row,
		Prefix: fmt.Sprintf("s%d-", id), TransactionalID: s.topic + "-producer",
		TxnSize: 10, Recorder: s.rec, Logger: log, DeliveryTimeout: deliveryTimeout})
	s.consumer = lab.NewConsumer(lab.ConsumerConfig{Topic: s.topic, Group: s.topic + "-group",
		Strategy: row.Consumer, OutputTopic: s.topic + "-out", TransactionalID: s.topic + "-transform",
		Recorder: s.rec, Logger: log})
	if err := s.startProducer(); err != nil {
		return nil, err
	}
	if err := s.startConsumer(); err != nil {
		return nil, err
	}
	s.wg.Add(3)
	go s.follow()
	go s.countLoop()
	go s.watchReplicas()
	ok = true
	return s, nil
}

// deliveryTimeout bounds each value's delivery: a fail-over on the sandbox takes about
// two seconds, which the values sent meanwhile should outlive.
const deliveryTimeout = 10 * time.Second

func createTopics(ctx context.Context, bootstrap string, settings SimSettings, topics ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(bootstrap)...))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	configs := map[string]*string{"min.insync.replicas": kadm.StringPtr(strconv.Itoa(settings.MinISR))}
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, settings.Partitions, settings.ReplicationFactor, configs, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("creating the simulator's topic: %w", err)
	}
	return nil
}

// startProducer starts a producer incarnation on the run's proxy.
func (s *session) startProducer() error {
	in, err := s.producer.Start(s.ctx, s.net.Bootstrap())
	if err != nil {
		return fmt.Errorf("starting the producer: %w", err)
	}
	s.mu.Lock()
	s.prodIn = in
	s.mu.Unlock()
	return nil
}

func (s *session) startConsumer() error {
	ci, err := s.consumer.Start(s.ctx, s.target.Bootstrap())
	if err != nil {
		return fmt.Errorf("starting the consumer: %w", err)
	}
	s.mu.Lock()
	s.consIn = ci
	s.mu.Unlock()
	return nil
}

// send hands n more values to the producer, restarting it if its last incarnation
// ended (a transactional producer fenced or refused).
func (s *session) send(n int) error {
	s.mu.Lock()
	in := s.prodIn
	s.mu.Unlock()
	select {
	case <-in.Done():
		if err := s.startProducer(); err != nil {
			return err
		}
		s.notice(fmt.Sprintf("producer incarnation %d ended; incarnation %d takes over", in.ID, in.ID+1))
	default:
	}
	values := s.producer.Add(n)
	s.mu.Lock()
	s.sent += len(values)
	s.mu.Unlock()
	for _, v := range values {
		s.publish(valueEvent("send", s.id, v, -1, -1))
	}
	return nil
}

// sendPaced sends n values one at a time, every interval, until done or the run ends.
func (s *session) sendPaced(n int, interval time.Duration) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for i := 0; i < n; i++ {
			if err := s.send(1); err != nil {
				s.publishError(err)
				return
			}
			if i == n-1 {
				return
			}
			select {
			case <-t.C:
			case <-s.ctx.Done():
				return
			}
		}
	}()
}

func (s *session) notice(msg string) {
	e := newEvent("notice", s.id)
	e.Message = msg
	s.publish(e)
}

func (s *session) publishError(err error) {
	e := newEvent("error", s.id)
	e.Message = err.Error()
	s.publish(e)
}

// follow turns what the history records into events.
func (s *session) follow() {
	defer s.wg.Done()
	t := time.NewTicker(followEvery)
	defer t.Stop()
	var cur lab.HistoryCursor
	for {
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
		delta, next := s.rec.Since(cur)
		if next != cur {
			s.historyVersion.Add(1)
		}
		cur = next
		s.publishHistory(delta)
	}
}

// countLoop recounts the tally when something changed. It runs apart from follow, so
// that a slow count (the broker restarting under the final read) never holds events up.
func (s *session) countLoop() {
	defer s.wg.Done()
	t := time.NewTicker(followEvery)
	defer t.Stop()
	tl := newTallier(s)
	for {
		select {
		case <-t.C:
		case <-s.ctx.Done():
			return
		}
		tl.maybeCount()
	}
}

// publishHistory publishes the client side of what happened: outcomes, transactions,
// polls, commits and processing.
func (s *session) publishHistory(h *lab.History) {
	for _, snd := range h.Sends {
		e := valueEvent("ack", s.id, snd.Value, snd.Partition, snd.Offset)
		e.Outcome, e.Error, e.Producer = snd.Outcome.String(), snd.Err, snd.Producer
		s.publish(e)
	}
	for _, t := range h.Txns {
		e := newEvent("txn", s.id)
		e.Producer, e.Outcome = t.Producer, t.Outcome.String()
		e.Message = fmt.Sprintf("transaction %d of producer %d: %s", t.Num, t.Producer, txnWord(t))
		s.publish(e)
	}
	for _, p := range h.Polls {
		for _, r := range p.Records {
			if s.wire.noteStored(r.Value, place{p.Partition, r.Offset}) {
				s.publish(valueEvent("stored", s.id, r.Value, p.Partition, r.Offset))
			}
			e := valueEvent("poll", s.id, r.Value, p.Partition, r.Offset)
			e.Consumer = p.Consumer
			s.publish(e)
		}
	}
	for _, c := range h.Commits {
		e := newEvent("commit", s.id)
		e.Partition, e.Offset, e.Consumer, e.Outcome = c.Partition, c.Offset, c.Consumer, c.Outcome.String()
		s.publish(e)
	}
	for _, p := range h.Processed {
		e := valueEvent("processed", s.id, p.Value, -1, -1)
		e.Consumer = p.Consumer
		s.publish(e)
	}
}

func txnWord(t lab.Txn) string {
	switch t.Outcome {
	case lab.OK:
		return "committed"
	case lab.Failed:
		return "aborted"
	}
	return "outcome unknown"
}

// sentCount is how many values the user sent in this run.
func (s *session) sentCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// state is the run as GET /api/sim/state shows it.
func (s *session) state() SimState {
	s.mu.Lock()
	defer s.mu.Unlock()
	armed := make([]string, 0, len(s.armed)+1)
	for name := range s.armed {
		armed = append(armed, name)
	}
	if s.crashing {
		armed = append(armed, "crash-consumer")
	}
	return SimState{Session: s.id, Topic: s.topic, Settings: s.settings, Tally: s.tally, Armed: armed}
}

// close stops the applications and the proxy, then deletes the run's topics.
func (s *session) close() {
	s.cancel()
	s.mu.Lock()
	prodIn, consIn := s.prodIn, s.consIn
	s.mu.Unlock()
	if prodIn != nil {
		s.producer.Crash(prodIn)
	}
	if consIn != nil {
		consIn.Stop()
	}
	s.wg.Wait()
	if s.stopObserve != nil {
		s.stopObserve()
	}
	if s.net != nil {
		s.net.Close()
	}
	if s.parent.Err() == nil { // a closing console takes the sandbox and its topics away
		s.deleteTopics()
	}
}

// deleteTopics removes the run's topics from the sandbox, best effort: a sandbox that
// runs for days should not pile them up.
func (s *session) deleteTopics() {
	cl, err := kgo.NewClient(kgo.SeedBrokers(clientopt.List(s.target.Bootstrap())...))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).DeleteTopics(ctx, s.topic, s.topic+"-out"); err != nil {
		s.log.Debug("console: deleting the simulator's topics", "topic", s.topic, "err", err)
	}
}
