package faults_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// TestClusterProxyKfake fronts a three-broker kfake cluster: producing and consuming in a
// group through Bootstrap, every connection the brokers see comes through a proxy, each
// partition leader is reached through its own proxy, and a dropped Produce response shows
// up as a retry.
func TestClusterProxyKfake(t *testing.T) {
	t.Parallel()
	const (
		topic      = "kfake-topic"
		partitions = 12
	)
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(partitions, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cp, err := faults.NewClusterProxy(c.ListenAddrs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	// Counted from here, after NewClusterProxy's own direct connection.
	var connections atomic.Int64 // kgo opens every connection with ApiVersions
	c.ControlKey(int16(kmsg.ApiVersions), func(kmsg.Request) (kmsg.Response, error, bool) {
		connections.Add(1)
		return nil, nil, false // not handled: only counted
	})
	if got := cp.Nodes(); len(got) != 3 {
		t.Fatalf("fronting nodes %v, want 3", got)
	}
	exerciseCluster(t, cp, topic, partitions)
	waitUntil(t, 5*time.Second, "the brokers to have seen every connection the proxies carried", func() bool {
		return int(connections.Load()) == cp.Stats().Requests[int16(kmsg.ApiVersions)]
	})
}

// TestClusterProxyWaybill does the same in front of one Waybill broker.
func TestClusterProxyWaybill(t *testing.T) {
	t.Parallel()
	const topic = "waybill-topic"
	b := testbroker.Start(t)
	testbroker.CreateTopic(t, b.Addr(), topic, 3)
	cp, err := faults.NewClusterProxy([]string{b.Addr()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	if got := cp.Nodes(); !slices.Equal(got, []int32{1}) {
		t.Fatalf("fronting nodes %v, want [1]", got)
	}
	exerciseCluster(t, cp, topic, 3)
}

// exerciseCluster produces to every partition and consumes it all in a group through cp,
// checks that the clients only know proxy addresses and that every partition leader was
// reached through its own proxy, then drops one Produce response and checks the retry.
func exerciseCluster(t *testing.T, cp *faults.ClusterProxy, topic string, partitions int) {
	t.Helper()
	seeds := strings.Split(cp.Bootstrap(), ",")
	dialled := &dialHook{}
	producer := testbroker.NewClient(t, seeds[0], quickRetries(
		kgo.SeedBrokers(seeds...),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.WithHooks(dialled),
	)...)
	values := 4 * partitions
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range values {
		if err := producer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
			t.Fatalf("producing %d: %v", i, err)
		}
	}
	consumer := testbroker.NewClient(t, seeds[0],
		kgo.SeedBrokers(seeds...),
		kgo.ConsumerGroup("group-"+topic),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.WithHooks(dialled),
	)
	seen := map[string]bool{}
	for len(seen) < values {
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d values: %v", len(seen), values, ctx.Err())
		}
		fetches.EachError(func(_ string, p int32, err error) { t.Fatalf("consuming partition %d: %v", p, err) })
		fetches.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}

	proxies := map[string]int32{}
	for _, n := range cp.Nodes() {
		proxies[cp.Proxy(n).Addr()] = n
	}
	for _, addr := range dialled.addrs() {
		if _, ok := proxies[addr]; !ok {
			t.Errorf("a client connected to %s, not a proxy", addr)
		}
	}
	for _, leader := range leaders(t, producer, topic) {
		p := cp.Proxy(leader)
		if p == nil || p.Stats().Requests[produceKey] == 0 {
			t.Errorf("no produce request reached leader %d through its proxy", leader)
		}
	}

	before := cp.Stats()
	cp.SetRule(faults.DropResponses(produceKey, faults.Nth(1, 1)))
	if err := producer.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("retried")}).FirstErr(); err != nil {
		t.Fatalf("producing through a dropped response: %v", err)
	}
	after := cp.Stats()
	if after.Dropped != before.Dropped+1 || after.Requests[produceKey] != before.Requests[produceKey]+2 {
		t.Errorf("dropped %d→%d, produce requests %d→%d: want one drop and a retry",
			before.Dropped, after.Dropped, before.Requests[produceKey], after.Requests[produceKey])
	}
	t.Logf("through %d proxies: %+v", len(proxies), after)
}

// dialHook records the address of every connection a client opens.
type dialHook struct {
	mu   sync.Mutex
	seen []string
}

func (h *dialHook) OnBrokerConnect(m kgo.BrokerMetadata, _ time.Duration, _ net.Conn, _ error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seen = append(h.seen, net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port))))
}

func (h *dialHook) addrs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

// leaders returns the leader of each partition of topic, asked through cl.
func leaders(t *testing.T, cl *kgo.Client, topic string) map[int32]int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int32{}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out[p.Partition] = p.Leader
		}
	}
	if len(out) == 0 {
		t.Fatalf("no partitions of %s in metadata", topic)
	}
	return out
}

// TestClusterProxyFrontsLateBrokers: a broker that joins after the cluster proxy started
// gets its own proxy the first time a response names it, and clients reach it only there.
func TestClusterProxyFrontsLateBrokers(t *testing.T) {
	t.Parallel()
	const topic = "late-broker"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cp, err := faults.NewClusterProxy(c.ListenAddrs(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cp.Close)
	dialled := &dialHook{}
	cl := testbroker.NewClient(t, cp.Bootstrap(), quickRetries(kgo.WithHooks(dialled))...)
	produce(t, cl, topic, "before")

	late, _, err := c.AddNode(-1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MoveTopicPartition(topic, 0, late); err != nil {
		t.Fatal(err)
	}
	// The old leader answers NOT_LEADER_OR_FOLLOWER naming the new one (KIP-951), or a
	// metadata refresh does; either way the client must be pointed at a new proxy.
	produce(t, cl, topic, "after")
	p := cp.Proxy(late)
	if p == nil {
		t.Fatalf("no proxy for the new broker %d; fronting %v", late, cp.Nodes())
	}
	if p.Stats().Requests[produceKey] == 0 {
		t.Errorf("the produce to the new leader did not go through its proxy")
	}
	for _, addr := range dialled.addrs() {
		if addr != p.Addr() && addr != cp.Proxy(cp.Nodes()[0]).Addr() {
			t.Errorf("the client connected to %s, not a proxy", addr)
		}
	}
}
