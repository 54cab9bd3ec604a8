// Package replication_test runs replicated clusters in-process on the crashable
// in-memory filesystem, with the faults that need precision: a leader cut off from its
// followers and the controller while its clients still reach it, crashes timed against
// the replication protocol, and a power loss of every node at once.
package replication_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// startCluster starts three in-process nodes, stopped when the test ends.
func startCluster(t *testing.T, brokerConfig map[string]string) *faults.Cluster {
	t.Helper()
	cfg := faults.ClusterConfig{Dir: t.TempDir(), Nodes: 3, BrokerConfig: brokerConfig}
	if os.Getenv("WAYBILL_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	c, err := faults.StartCluster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func client(t *testing.T, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50 * time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond })}
	return testbroker.NewClient(t, seeds[0], append(base, opts...)...)
}

func createTopic(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partitions int32, rf int16, configs map[string]string) {
	t.Helper()
	cs := map[string]*string{}
	for k, v := range configs {
		cs[k] = kmsg.StringPtr(v)
	}
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, rf, cs, topic); err != nil {
		t.Fatal(err)
	}
}

// partitionView is a partition as one node's metadata shows it.
type partitionView struct {
	leader int32
	epoch  int32
	isr    []int32
}

// viewFrom asks node for partition 0..n of topic; nil if it does not know the topic.
func viewFrom(ctx context.Context, addr, topic string) []partitionView {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return nil
	}
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := req.RequestWith(rctx, cl)
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		return nil
	}
	out := make([]partitionView, len(resp.Topics[0].Partitions))
	for _, p := range resp.Topics[0].Partitions {
		isr := slices.Clone(p.ISR)
		slices.Sort(isr)
		out[p.Partition] = partitionView{leader: p.Leader, epoch: p.LeaderEpoch, isr: isr}
	}
	return out
}

// waitFor polls cond every 20 ms until it holds, failing the test when ctx ends first.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting until %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitForPartition waits until node's metadata shows partition 0 of topic as ok says.
func waitForPartition(ctx context.Context, t *testing.T, node *faults.ClusterNode, topic, what string, ok func(partitionView) bool) partitionView {
	t.Helper()
	var got partitionView
	waitFor(ctx, t, fmt.Sprintf("node %d shows %s-0 %s", node.ID(), topic, what), func() bool {
		v := viewFrom(ctx, node.Addr(), topic)
		if len(v) == 0 || !ok(v[0]) {
			return false
		}
		got = v[0]
		return true
	})
	return got
}

// produce sends values [from, to) to partition 0 of topic, one record each, all at once,
// and returns the ones acknowledged and the errors of the others.
func produce(ctx context.Context, cl *kgo.Client, topic string, from, to int) (acked []string, errs []error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := from; i < to; i++ {
		v := fmt.Sprint(i)
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: topic, Partition: 0, Value: []byte(v)}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			acked = append(acked, v)
		})
	}
	wg.Wait()
	return acked, errs
}

// readAll reads partition 0 of topic from the start to its high watermark.
func readAll(ctx context.Context, t *testing.T, seeds []string, topic string) map[string]int {
	t.Helper()
	return testbroker.CountValues(t, seeds[0], topic)
}

func missing(acked []string, read map[string]int) []string {
	var out []string
	for _, v := range acked {
		if read[v] == 0 {
			out = append(out, v)
		}
	}
	return out
}

func manualPartitioner() kgo.Opt { return kgo.RecordPartitioner(kgo.ManualPartitioner()) }

// dumpReplicas logs each node's replica of partition 0 of topic, for a failure's report.
func dumpReplicas(t *testing.T, c *faults.Cluster, topic string) {
	t.Helper()
	for _, n := range c.Nodes() {
		b := n.Broker()
		if b == nil {
			t.Logf("node %d: stopped", n.ID())
			continue
		}
		p := b.Replica(topic, 0)
		if p == nil {
			t.Logf("node %d: no replica", n.ID())
			continue
		}
		batches, _ := p.Batches(p.Log().EndOffset())
		t.Logf("node %d: leadership %+v hw %d end %d epochs %v batches %d (last %v)", n.ID(), p.Leadership(), p.HighWatermark(),
			p.Log().EndOffset(), p.Epochs(), len(batches), batches[max(len(batches)-3, 0):])
	}
}
