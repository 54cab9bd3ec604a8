package faults_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// startNode starts a Node for the test with a one-partition topic.
func startNode(t *testing.T, topic string, brokerConfig map[string]string) *faults.Node {
	t.Helper()
	n, err := faults.StartNode(faults.NodeConfig{Dir: t.TempDir(), BrokerConfig: brokerConfig})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	testbroker.CreateTopic(t, n.Addr(), topic, 1)
	return n
}

// produceLeaderAcks produces count values with acks=1 and without idempotence, one
// request each, and returns them, all acked.
func produceLeaderAcks(t *testing.T, addr, topic string, count int) []string {
	t.Helper()
	cl := plainProducer(t, addr, kgo.RequiredAcks(kgo.LeaderAck()))
	values := make([]string, count)
	for i := range values {
		values[i] = topic + "-" + strconv.Itoa(i)
		produce(t, cl, topic, values[i])
	}
	return values
}

var pageCacheAcks = map[string]string{"waybill.durable.acks": "false"}

// TestNodeCrashKeepsUnsyncedAcks: with acks answered before fsync, a process crash loses
// nothing: the page cache outlives the process.
func TestNodeCrashKeepsUnsyncedAcks(t *testing.T) {
	t.Parallel()
	const topic = "crash"
	n := startNode(t, topic, pageCacheAcks)
	acked := produceLeaderAcks(t, n.Addr(), topic, 50)
	before := n.Broker()
	if err := n.Crash(); err != nil {
		t.Fatal(err)
	}
	if n.Broker() == before {
		t.Fatal("Crash kept the old broker")
	}
	if lost := missing(acked, testbroker.CountValues(t, n.Addr(), topic)); len(lost) > 0 {
		t.Fatalf("a process crash lost %d of %d acked values, e.g. %s", len(lost), len(acked), lost[0])
	}
}

// TestNodePowerLossLosesUnsyncedAcks: with acks answered before fsync, a power loss takes
// the acked values that were never synced — the weaker setting's expected loss, observed.
func TestNodePowerLossLosesUnsyncedAcks(t *testing.T) {
	t.Parallel()
	const topic = "power-loss-page-cache"
	n := startNode(t, topic, pageCacheAcks)
	acked := produceLeaderAcks(t, n.Addr(), topic, 50)
	if err := n.PowerLoss(); err != nil {
		t.Fatal(err)
	}
	lost := missing(acked, testbroker.CountValues(t, n.Addr(), topic))
	t.Logf("power loss with waybill.durable.acks=false lost %d of %d acked values", len(lost), len(acked))
	if len(lost) == 0 {
		t.Fatal("no acked value lost although none was synced")
	}
	// The restarted broker works: the topic (in the metadata quorum) is still there.
	produce(t, plainProducer(t, n.Addr()), topic, "after")
}

// TestNodePowerLossKeepsDurableAcks: with Waybill's default durable acks, a power loss in
// the middle of producing keeps every acked value, whatever was in flight.
func TestNodePowerLossKeepsDurableAcks(t *testing.T) {
	t.Parallel()
	const (
		topic  = "power-loss-durable"
		values = 400
	)
	n := startNode(t, topic, nil)
	// franz-go's defaults: acks=all, idempotent, retries without limit.
	cl := testbroker.NewClient(t, n.Addr(), quickRetries()...)
	var l ledger
	done := make(chan struct{})
	go func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for i := range values {
			v := strconv.Itoa(i)
			l.record(v, cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(v)}).FirstErr())
		}
	}()
	waitUntil(t, 10*time.Second, "the first acks", func() bool { a, _ := l.counts(); return a >= values/4 })
	if err := n.PowerLoss(); err != nil {
		t.Fatal(err)
	}
	ackedAtLoss, _ := l.counts()
	select {
	case <-done:
	case <-time.After(25 * time.Second):
		t.Fatal("the producer did not finish after the power loss")
	}
	acked, failed := l.counts()
	lost := missing(l.ackedValues(), testbroker.CountValues(t, n.Addr(), topic))
	t.Logf("power loss after %d acks; in all %d acked, %d failed, %d lost", ackedAtLoss, acked, failed, len(lost))
	if len(lost) > 0 {
		t.Fatalf("durable acks: a power loss lost %d acked values, e.g. %s", len(lost), lost[0])
	}
}

// TestNodePause: the paused node holds a request until Resume.
func TestNodePause(t *testing.T) {
	t.Parallel()
	const topic = "node-pause"
	n := startNode(t, topic, nil)
	cl := plainProducer(t, n.Addr())
	produce(t, cl, topic, "before")
	n.Pause()
	acked := make(chan error, 1)
	cl.Produce(context.Background(), &kgo.Record{Topic: topic, Value: []byte("held")}, func(_ *kgo.Record, err error) { acked <- err })
	waitUntil(t, 10*time.Second, "the proxy to read the produce request", func() bool {
		return n.Proxy().Stats().Requests[produceKey] == 2
	})
	select {
	case err := <-acked:
		t.Fatalf("answered while paused: %v", err)
	default:
	}
	n.Resume()
	select {
	case err := <-acked:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ack after resume")
	}
}
