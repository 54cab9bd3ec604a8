package faults_test

import (
	"context"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// brokerWithTopic starts a Waybill broker with a one-partition topic.
func brokerWithTopic(t *testing.T, topic string) *testbroker.Broker {
	t.Helper()
	b := testbroker.Start(t)
	testbroker.CreateTopic(t, b.Addr(), topic, 1)
	return b
}

// TestDroppedResponseDuplicates: the lost ack. The broker wrote the batch, the client
// never heard, and a producer without idempotence writes it again.
func TestDroppedResponseDuplicates(t *testing.T) {
	t.Parallel()
	const topic = "dropped-response"
	b := brokerWithTopic(t, topic)
	p := newProxy(t, b.Addr())
	p.SetRule(faults.DropResponses(produceKey, faults.Nth(1, 1)))

	produce(t, plainProducer(t, p.Addr()), topic, "v")
	if got := testbroker.CountValues(t, b.Addr(), topic)["v"]; got != 2 {
		t.Fatalf("value written %d times, want 2 (the original and the retry)", got)
	}
	if s := p.Stats(); s.Dropped != 1 || s.Requests[produceKey] != 2 {
		t.Fatalf("stats %+v: want 1 dropped response and 2 produce requests", s)
	}
}

// TestDroppedRequestDoesNotDuplicate: a dropped request never reached the broker, so the
// retry is the only copy.
func TestDroppedRequestDoesNotDuplicate(t *testing.T) {
	t.Parallel()
	const topic = "dropped-request"
	b := brokerWithTopic(t, topic)
	p := newProxy(t, b.Addr())
	p.SetRule(faults.DropRequests(produceKey, faults.Nth(1, 1)))

	produce(t, plainProducer(t, p.Addr()), topic, "v")
	if got := testbroker.CountValues(t, b.Addr(), topic)["v"]; got != 1 {
		t.Fatalf("value written %d times, want once", got)
	}
	if s := p.Stats(); s.Dropped != 1 || s.Requests[produceKey] != 2 {
		t.Fatalf("stats %+v: want 1 dropped request and 2 produce requests", s)
	}
}

// TestCutConnections: a cut before a request is forwarded loses nothing; a cut before
// its response is forwarded is a lost ack like a drop, counted apart.
func TestCutConnections(t *testing.T) {
	t.Parallel()
	for dir, want := range map[faults.Direction]int{faults.ToBroker: 1, faults.ToClient: 2} {
		topic := "cut-" + dir.String()
		b := brokerWithTopic(t, topic)
		p := newProxy(t, b.Addr())
		p.SetRule(faults.CutConnections(dir, produceKey, faults.Nth(1, 1)))
		produce(t, plainProducer(t, p.Addr()), topic, "v")
		if got := testbroker.CountValues(t, b.Addr(), topic)["v"]; got != want {
			t.Errorf("cut on the %s: value written %d times, want %d", dir, got, want)
		}
		if s := p.Stats(); s.Cut != 1 || s.Dropped != 0 || s.Requests[produceKey] != 2 {
			t.Errorf("cut on the %s: stats %+v, want one cut and a retry", dir, s)
		}
	}
}

// TestBlackHoledResponseTimesOut: the proxy swallows a Produce response and keeps the
// connection open; the producer learns nothing until its own request timeout, then
// retries on a new connection and, without idempotence, writes the batch again.
func TestBlackHoledResponseTimesOut(t *testing.T) {
	t.Parallel()
	const (
		topic          = "black-holed-response"
		produceTimeout = 300 * time.Millisecond
		overhead       = 300 * time.Millisecond // kgo waits for a response this much longer
	)
	b := brokerWithTopic(t, topic)
	p := newProxy(t, b.Addr())
	p.SetRule(faults.BlackHoleFrames(faults.ToClient, produceKey, faults.Nth(1, 1)))
	cl := plainProducer(t, p.Addr(), kgo.ProduceRequestTimeout(produceTimeout), kgo.RequestTimeoutOverhead(overhead))

	start := time.Now()
	produce(t, cl, topic, "v")
	if took := time.Since(start); took < produceTimeout+overhead {
		t.Errorf("produce acked after %v, before the client's timeout of %v", took, produceTimeout+overhead)
	}
	s := p.Stats()
	if s.BlackHoled != 1 || s.Dropped != 0 || s.Cut != 0 {
		t.Errorf("stats %+v: want one black-holed frame and no cut", s)
	}
	if got := testbroker.CountValues(t, b.Addr(), topic)["v"]; got != 2 {
		t.Errorf("value written %d times, want 2 (the unanswered original and the retry)", got)
	}
}

// TestBlackHoledRequestsKeepTheConnection: after a black-holed request every later request
// on that connection vanishes too, yet the connection stays open: the client sees
// timeouts, never a broken connection.
func TestBlackHoledRequestsKeepTheConnection(t *testing.T) {
	t.Parallel()
	const topic = "black-holed-request"
	b := brokerWithTopic(t, topic)
	p := newProxy(t, b.Addr())
	cl := testbroker.NewClient(t, p.Addr())
	describe := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
		req.Resources = append(req.Resources, res)
		_, err := cl.Broker(1).Request(ctx, req) // one connection: broker 1's
		return err
	}
	if err := describe(10 * time.Second); err != nil {
		t.Fatalf("describe configs before the fault: %v", err)
	}
	p.SetRule(faults.BlackHoleFrames(faults.ToBroker, int16(kmsg.DescribeConfigs), faults.Nth(1, 1)))
	for i := 1; i <= 2; i++ {
		if err := describe(300 * time.Millisecond); !isTimeout(err) {
			t.Fatalf("describe configs %d into the black hole: got %v, want a timeout", i, err)
		}
	}
	s := p.Stats()
	if s.BlackHoled < 2 || s.Cut != 0 || s.Dropped != 0 {
		t.Errorf("stats %+v: want both requests black-holed and nothing cut", s)
	}
	if s.Open != s.Conns {
		t.Errorf("%d of %d connections closed; a black hole keeps them open", s.Conns-s.Open, s.Conns)
	}
}

// TestDelayedResponseArrivesLate: a delayed Produce response holds the producer back by
// at least the delay.
func TestDelayedResponseArrivesLate(t *testing.T) {
	t.Parallel()
	const (
		topic = "delayed-response"
		delay = 400 * time.Millisecond
	)
	b := brokerWithTopic(t, topic)
	p := newProxy(t, b.Addr())
	cl := plainProducer(t, p.Addr())
	produce(t, cl, topic, "warm-up") // connections, metadata
	p.SetRule(faults.DelayFrames(faults.ToClient, produceKey, delay, faults.Nth(1, 1)))
	start := time.Now()
	produce(t, cl, topic, "v")
	if took := time.Since(start); took < delay {
		t.Errorf("produce acked after %v, before the delay of %v", took, delay)
	}
	if s := p.Stats(); s.Delayed != 1 || s.Requests[produceKey] != 2 {
		t.Errorf("stats %+v: want one delayed frame, no retry", s)
	}
}

// TestDelayKeepsConnectionOrder: two pipelined requests on one connection, the first
// response delayed: the second response waits behind it.
func TestDelayKeepsConnectionOrder(t *testing.T) {
	t.Parallel()
	const delay = 300 * time.Millisecond
	b := testbroker.Start(t)
	p := newProxy(t, b.Addr())
	p.SetRule(faults.DelayFrames(faults.ToClient, int16(kmsg.ApiVersions), delay, faults.Nth(1, 1)))

	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	f := kmsg.NewRequestFormatter()
	var out []byte
	for corr := int32(1); corr <= 2; corr++ {
		// AppendRequest sizes the whole of dst, so each request gets its own.
		out = append(out, f.AppendRequest(nil, kmsg.NewPtrApiVersionsRequest(), corr)...) // v0
	}
	start := time.Now()
	if _, err := c.Write(out); err != nil {
		t.Fatal(err)
	}
	var order []int32
	for range 2 {
		frame := readResponse(t, c)
		resp, err := faults.DecodeResponse(int16(kmsg.ApiVersions), 0, frame)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.ApiVersionsResponse).ErrorCode; code != 0 {
			t.Fatalf("ApiVersions error %d", code)
		}
		order = append(order, int32(frame[0])<<24|int32(frame[1])<<16|int32(frame[2])<<8|int32(frame[3]))
	}
	if took := time.Since(start); took < delay {
		t.Errorf("both responses within %v, before the delay of %v", took, delay)
	}
	if !slices.Equal(order, []int32{1, 2}) {
		t.Errorf("responses arrived in correlation order %v, want [1 2]", order)
	}
}

// readResponse reads one size-prefixed response from c.
func readResponse(t *testing.T, c net.Conn) []byte {
	t.Helper()
	var size [4]byte
	if _, err := readFull(c, size[:]); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, int(size[0])<<24|int(size[1])<<16|int(size[2])<<8|int(size[3]))
	if _, err := readFull(c, frame); err != nil {
		t.Fatal(err)
	}
	return frame
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// TestProbabilityReplays: the same seed drops the same Produce attempts of the same
// sequential workload, seen from the producer as the same retries.
func TestProbabilityReplays(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	run := func(topic string, seed int64) []faults.ActionKind {
		testbroker.CreateTopic(t, b.Addr(), topic, 1)
		p := newProxy(t, b.Addr())
		var mu sync.Mutex
		var verdicts []faults.ActionKind
		p.Observe(func(ev faults.Event) {
			if ev.Dir == faults.ToBroker && ev.APIKey == produceKey {
				mu.Lock()
				verdicts = append(verdicts, ev.Action)
				mu.Unlock()
			}
		})
		p.SetRule(faults.DropRequests(produceKey, faults.Probability(0.3, seed, 0)))
		cl := plainProducer(t, p.Addr())
		for i := range 20 {
			produce(t, cl, topic, string(rune('a'+i)))
		}
		mu.Lock()
		defer mu.Unlock()
		return verdicts
	}
	first, again := run("probability-1", 7), run("probability-2", 7)
	if !slices.Equal(first, again) {
		t.Fatalf("seed 7 gave different verdicts:\n%v\n%v", first, again)
	}
	if dropped := len(first) - 20; dropped == 0 {
		t.Fatalf("p=0.3 over %d produce requests dropped none", len(first))
	}
}

// TestPauseHoldsAndResumeDelivers: while paused the proxy reads a Produce request but the
// broker never gets it; Resume delivers it and the producer gets its ack.
func TestPauseHoldsAndResumeDelivers(t *testing.T) {
	t.Parallel()
	const topic = "pause"
	b := brokerWithTopic(t, topic)
	p := newProxy(t, b.Addr())
	cl := plainProducer(t, p.Addr())
	produce(t, cl, topic, "before")

	seen := make(chan struct{}, 1)
	var observed atomic.Int64
	stop := p.Observe(func(ev faults.Event) {
		observed.Add(1)
		if ev.Dir != faults.ToBroker || ev.APIKey != produceKey {
			return
		}
		req, err := faults.DecodeRequest(ev.Frame)
		if err != nil {
			t.Errorf("decoding the observed produce request: %v", err)
			return
		}
		if pr := req.(*kmsg.ProduceRequest); len(pr.Topics) == 1 && pr.Topics[0].Topic == topic {
			select {
			case seen <- struct{}{}:
			default:
			}
		}
	})
	p.Pause()
	acked := make(chan error, 1)
	cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: []byte("held")}, func(_ *kgo.Record, err error) { acked <- err })
	select {
	case <-seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the proxy never read the produce request")
	}
	// The proxy has the request and holds it: the broker cannot have the record.
	if got := testbroker.CountValues(t, b.Addr(), topic); got["held"] != 0 || got["before"] != 1 {
		t.Fatalf("while paused the broker has %v", got)
	}
	select {
	case err := <-acked:
		t.Fatalf("produce answered while paused: %v", err)
	default:
	}
	p.Resume()
	select {
	case err := <-acked:
		if err != nil {
			t.Fatalf("produce after resume: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ack after resume")
	}
	if got := testbroker.CountValues(t, b.Addr(), topic); got["held"] != 1 {
		t.Fatalf("after resume the broker has %v", got)
	}
	stop()
	n := observed.Load()
	produce(t, cl, topic, "unobserved")
	if observed.Load() != n {
		t.Fatal("the observer was called after it stopped")
	}
	if s := p.Stats(); s.Dropped+s.Cut+s.BlackHoled != 0 {
		t.Fatalf("pause faulted frames: %+v", s)
	}
}

// TestSetTargetMovesNewConnections: after SetTarget, a new client reaches the other
// broker through the same proxy address.
func TestSetTargetMovesNewConnections(t *testing.T) {
	t.Parallel()
	b1, b2 := testbroker.Start(t), testbroker.Start(t)
	testbroker.CreateTopic(t, b1.Addr(), "only-on-1", 1)
	testbroker.CreateTopic(t, b2.Addr(), "only-on-2", 1)
	p := newProxy(t, b1.Addr())
	produce(t, plainProducer(t, p.Addr()), "only-on-1", "one")
	p.SetTarget(b2.Addr())
	p.CutAll()
	produce(t, plainProducer(t, p.Addr()), "only-on-2", "two")
	if got := testbroker.CountValues(t, b2.Addr(), "only-on-2")["two"]; got != 1 {
		t.Fatalf("second broker has %d copies", got)
	}
}
