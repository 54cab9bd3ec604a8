package cluster_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/lab"
	"github.com/waybill/waybill/internal/testbroker"
)

// TestTransactionsSurviveLeaderAndCoordinatorKills runs a consume-transform-produce
// pipeline (the lab's exactly-once consumer: read_committed polls of the input, each
// poll's values produced to the output in one transaction with the poll's offsets) over
// topics of three replicas, with __consumer_offsets and __transaction_state replicated
// three times too. Once a third of the input is committed, the leader of output partition
// 0 is killed with SIGKILL; once two thirds are, the node of the pipeline's transaction
// coordinator is. Each killed node is restarted and must come back into every ISR. A
// pipeline member that gives up (its transaction cannot begin) is replaced by a new one
// with the same transactional id. When the group has committed the whole input, the
// output read read_committed must hold every input value exactly once, and nothing
// else: a record of an aborted transaction would show as a second copy. The lab's checker
// judges the input's history (the pipeline's polls must skip nothing), and the replicas'
// logs of the output and of __transaction_state are compared batch by batch.
func TestTransactionsSurviveLeaderAndCoordinatorKills(t *testing.T) {
	const (
		input      = "ctp-input"
		output     = "ctp-output"
		partitions = 3
		values     = 15000
		txnID      = "ctp-txn"
		runTimeout = 60 * time.Second
	)
	pc := testbroker.StartProcessCluster(t, waybillBinary, 3, testbroker.ProcessClusterOptions{BrokerConfig: replicatedInternalTopics})
	createReplicatedTopic(t, pc, input, partitions)
	createReplicatedTopic(t, pc, output, partitions)
	bootstrap := strings.Join(pc.Addrs(), ",")

	producer := startClusterProducer(t, pc.Addrs(), input, partitions, "in")
	producer.waitAcked(t, values, rejoinTimeout)
	producer.stop(t, flushTimeout)
	rec := producer.rec
	inputEnds := endOffsets(t, pc, input)

	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	consumer := lab.NewConsumer(lab.ConsumerConfig{Topic: input, Group: "ctp-group", Strategy: lab.Transactional,
		OutputTopic: output, TransactionalID: txnID, Recorder: rec})
	pipeline := superviseMembers(ctx, t, consumer, bootstrap)
	defer pipeline.stop()

	// The leader of output partition 0, at a third of the input.
	waitCommittedFraction(ctx, t, pc, consumer, inputEnds, 1, 3, txnID)
	outputLeader := pc.WaitPartitions(output, failoverTimeout, "a leader for every partition of "+output, hasLeaders)[0].Leader
	killAndRecover(t, pc, output, 0, outputLeader)

	// The transaction coordinator's node, at two thirds.
	waitCommittedFraction(ctx, t, pc, consumer, inputEnds, 2, 3, txnID)
	coordinator := txnCoordinator(ctx, t, pc, txnID)
	killAndRecover(t, pc, "__transaction_state", -1, coordinator)

	if err := consumer.WaitCommitted(ctx, inputEnds); err != nil {
		t.Fatalf("the pipeline did not commit the whole input %v within %v: %v (%s; %s)",
			inputEnds, runTimeout, err, pipeline.summary(), describeTxn(t, pc, txnID))
	}
	pipeline.stop()
	t.Logf("pipeline: %s; killed node %d (leader of %s-0), then node %d (coordinator of %s)",
		pipeline.summary(), outputLeader, output, coordinator, txnID)

	// The final read lists each partition's end at its leader: on a cluster settled
	// with every replica in sync, so that no leader elected moments ago shows a high
	// watermark its followers have not yet confirmed.
	pc.WaitPartitions(output, rejoinTimeout, "every replica of "+output+" in sync before the final read", pc.FullyInSync)
	t.Logf("output high watermarks before the final read: %v", endOffsets(t, pc, output))
	out := &lab.History{Topic: output, Partitions: partitions}
	if err := lab.AddFinalRead(context.Background(), out, bootstrap, output, true, true, readBackTimeout); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnce(t, rec.History(), out)
	res := readBackAndCheck(t, rec, pc)
	assertEveryAckOnce(t, res)
	compareReplicas(t, pc, output, "__transaction_state")
}

// hasLeaders is a WaitPartitions condition: every partition has a leader.
func hasLeaders(s []testbroker.PartitionState) bool {
	for _, p := range s {
		if p.Leader < 0 {
			return false
		}
	}
	return len(s) > 0
}

// waitCommittedFraction waits until the consumer's commits reach num/den of every
// partition's end offset; a failure describes transactional id txnID.
func waitCommittedFraction(ctx context.Context, t *testing.T, pc *testbroker.ProcessCluster, c *lab.Consumer, ends map[int32]int64, num, den int64, txnID string) {
	t.Helper()
	part := map[int32]int64{}
	for p, end := range ends {
		part[p] = end * num / den
	}
	if err := c.WaitCommitted(ctx, part); err != nil {
		t.Fatalf("the pipeline did not commit %d/%d of the input (%v): %v; %s", num, den, part, err, describeTxn(t, pc, txnID))
	}
}

// describeTxn says what the coordinator holds for transactional id, for failure messages.
func describeTxn(t *testing.T, pc *testbroker.ProcessCluster, id string) string {
	cl := testbroker.OpenClient(t, pc.Addrs()[0], kgo.SeedBrokers(pc.Addrs()...))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	described, err := kadm.NewClient(cl).DescribeTransactions(ctx, id)
	if err != nil {
		return fmt.Sprintf("describing transaction %s: %v", id, err)
	}
	d := described[id]
	return fmt.Sprintf("transaction %s on coordinator %d: state %s, producer %d epoch %d, started %v ago, partitions %v (err %v)",
		id, d.Coordinator, d.State, d.ProducerID, d.ProducerEpoch,
		time.Since(time.UnixMilli(d.StartTimestamp)).Round(time.Millisecond), d.Topics.Sorted(), d.Err)
}

// killAndRecover kills node id with SIGKILL, waits until every partition of topic has a
// leader other than it (partition index's only, when index >= 0), restarts it and waits
// until it is back in every ISR of topic.
func killAndRecover(t *testing.T, pc *testbroker.ProcessCluster, topic string, index int32, id int32) {
	t.Helper()
	start := time.Now()
	pc.Kill(id)
	pc.WaitPartitions(topic, failoverTimeout, fmt.Sprintf("leaders of %s other than the killed node %d", topic, id), func(s []testbroker.PartitionState) bool {
		for _, p := range s {
			if (index < 0 || p.Partition == index) && (p.Leader < 0 || p.Leader == id) {
				return false
			}
		}
		return true
	})
	failover := time.Since(start)
	pc.Restart(id)
	pc.WaitPartitions(topic, rejoinTimeout, fmt.Sprintf("node %d back in every ISR of %s", id, topic), pc.FullyInSync)
	t.Logf("killed node %d: new leaders of %s after %v, back in sync after %v", id, topic,
		failover.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// txnCoordinator asks the cluster which node coordinates transactional id.
func txnCoordinator(ctx context.Context, t *testing.T, pc *testbroker.ProcessCluster, id string) int32 {
	t.Helper()
	cl := testbroker.OpenClient(t, pc.Addrs()[0], kgo.SeedBrokers(pc.Addrs()...))
	defer cl.Close()
	resp, ok := kadm.NewClient(cl).FindTxnCoordinators(ctx, id)[id]
	if !ok || resp.Err != nil {
		t.Fatalf("finding the coordinator of %s: %v", id, resp.Err)
	}
	return resp.NodeID
}

// assertExactlyOnce fails the test unless the output's read_committed final read holds
// every value the input's sends acknowledged exactly once, and no other value.
func assertExactlyOnce(t *testing.T, in, out *lab.History) {
	t.Helper()
	want := map[string]bool{}
	for _, s := range in.Sends {
		if s.Outcome == lab.OK {
			want[s.Value] = true
		}
	}
	got := map[string]int{}
	for _, p := range out.Polls {
		for _, r := range p.Records {
			got[r.Value]++
		}
	}
	var missing, extra, repeated []string
	for v := range want {
		if got[v] == 0 {
			missing = append(missing, v)
		}
	}
	for v, n := range got {
		switch {
		case !want[v]:
			extra = append(extra, v)
		case n > 1:
			repeated = append(repeated, fmt.Sprintf("%s ×%d", v, n))
		}
	}
	if len(missing)+len(extra)+len(repeated) > 0 {
		perPartition := map[int32]int{}
		for _, p := range out.Polls {
			perPartition[p.Partition] += len(p.Records)
		}
		t.Logf("output read_committed per partition: %v; final read complete for %v", perPartition, out.FinalReadComplete)
		t.Errorf("output read_committed: %d distinct values for %d input values; %d missing %v, %d more than once %v, %d never in the input %v",
			len(got), len(want), len(missing), firstFew(missing), len(repeated), firstFew(repeated), len(extra), firstFew(extra))
	}
}

// pipelineMembers keeps one member of the exactly-once pipeline running: a member that
// ends (a transaction it could not begin) is replaced by a new incarnation.
type pipelineMembers struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	started  int
	lastErr  error
	stopOnce sync.Once
}

func superviseMembers(ctx context.Context, t *testing.T, c *lab.Consumer, bootstrap string) *pipelineMembers {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	pm := &pipelineMembers{cancel: cancel, done: make(chan struct{})}
	member, err := c.Start(ctx, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	pm.started = 1
	go func() {
		defer close(pm.done)
		for {
			<-member.Done()
			if ctx.Err() != nil {
				return
			}
			// The member gave up; the application starts it again, as a supervisor would.
			next, err := c.Start(ctx, bootstrap)
			pm.mu.Lock()
			if err != nil {
				pm.lastErr = err
				pm.mu.Unlock()
				return
			}
			pm.started++
			pm.mu.Unlock()
			member = next
		}
	}()
	return pm
}

// stop ends the current member and the supervision, bounded.
func (pm *pipelineMembers) stop() {
	pm.stopOnce.Do(func() {
		pm.cancel()
		select {
		case <-pm.done:
		case <-time.After(30 * time.Second):
		}
	})
}

func (pm *pipelineMembers) summary() string {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	return fmt.Sprintf("%d member incarnations (last start error: %v)", pm.started, pm.lastErr)
}
