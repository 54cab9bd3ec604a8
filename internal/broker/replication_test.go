package broker_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
	"github.com/waybill/waybill/internal/vfs"
)

// replicatedCluster starts three brokers that drop a silent follower from the ISR after
// lag, and returns them with a client that knows them all.
func replicatedCluster(t *testing.T, lag time.Duration) ([]*testbroker.Broker, []string, *kgo.Client) {
	t.Helper()
	nodes := testbroker.StartCluster(t, 3, testbroker.WithBrokerConfig(map[string]string{
		"replica.lag.time.max.ms": fmt.Sprint(lag.Milliseconds()),
	}))
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	cl := testbroker.NewClient(t, seeds[0], kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50*time.Millisecond),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordRetries(100), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	return nodes, seeds, cl
}

func produceValues(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, from, to int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprint(i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func nodeByID(nodes []*testbroker.Broker, id int32) *testbroker.Broker {
	for _, n := range nodes {
		if n.NodeID() == id {
			return n
		}
	}
	return nil
}

// Three replicas of every partition: acks=all produces reach every replica, batch for
// batch; a leader that stops hands over to an in-sync follower without losing anything
// acknowledged; the stopped broker comes back as a follower, copies what it missed and
// rejoins the ISR.
func TestReplicationKeepsEveryReplicaAndFailsOver(t *testing.T) {
	nodes, seeds, cl := replicatedCluster(t, 2*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	const topic, partitions = "replicated", 3
	if _, err := adm.CreateTopic(ctx, partitions, 3, map[string]*string{"min.insync.replicas": kmsg.StringPtr("2")}, topic); err != nil {
		t.Fatal(err)
	}
	states := testbroker.WaitForISR(ctx, t, nodes, topic, partitions, 3)
	produceValues(ctx, t, cl, topic, 0, 300)
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)

	leader := nodeByID(nodes, states[0].Leader)
	leader.Stop()
	states = testbroker.WaitForISR(ctx, t, nodes, topic, partitions, 2)
	if states[0].Leader == leader.NodeID() || slices.Contains(states[0].ISR, leader.NodeID()) {
		t.Fatalf("stopped broker %d still leads or is in sync: %+v", leader.NodeID(), states[0])
	}
	produceValues(ctx, t, cl, topic, 300, 600)
	var running []string
	for _, n := range nodes {
		if n.Running() {
			running = append(running, n.Addr())
		}
	}
	if got := testbroker.CountValues(t, running[0], topic); len(got) != 600 {
		t.Fatalf("read back %d distinct values after fail-over, want 600", len(got))
	}
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)

	testbroker.StartAll(t, leader)
	testbroker.WaitForISR(ctx, t, nodes, topic, partitions, 3)
	testbroker.VerifyReplicas(ctx, t, nodes, topic, partitions)
	if got := testbroker.CountValues(t, seeds[0], topic); len(got) != 600 {
		t.Fatalf("read back %d distinct values after the broker's return, want 600", len(got))
	}
}

// idempotentBatch is a batch of n records from producer id/epoch starting at seq.
func idempotentBatch(id int64, epoch int16, seq int32, n int) []byte {
	var recs []records.Record
	for i := range n {
		recs = append(recs, records.Record{Value: []byte(fmt.Sprint(seq + int32(i)))})
	}
	return records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli(),
		Producer: &records.ProducerFields{ID: id, Epoch: epoch, BaseSequence: seq}}, recs)
}

// Followers rebuild the idempotent producer state from the batches they copy: after the
// leader stops, a retried batch sent to the new leader gets its original offset back
// (not a second copy), and a sequence gap still gets OUT_OF_ORDER_SEQUENCE_NUMBER.
func TestIdempotenceSurvivesFailOver(t *testing.T) {
	nodes, _, cl := replicatedCluster(t, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const topic = "dedupe"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 3, nil, topic); err != nil {
		t.Fatal(err)
	}
	states := testbroker.WaitForISR(ctx, t, nodes, topic, 1, 3)
	init, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || init.ErrorCode != 0 {
		t.Fatalf("InitProducerID: %v %v", err, init)
	}
	id, epoch := init.ProducerID, init.ProducerEpoch
	at := func(leader int32, batch []byte) kmsg.ProduceResponseTopicPartition {
		t.Helper()
		resp, err := cl.Broker(int(leader)).RetriableRequest(ctx, produceRequest(topic, batch))
		if err != nil {
			t.Fatal(err)
		}
		return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	}
	first := at(states[0].Leader, idempotentBatch(id, epoch, 0, 5))
	second := at(states[0].Leader, idempotentBatch(id, epoch, 5, 5))
	if first.ErrorCode != 0 || second.ErrorCode != 0 || second.BaseOffset != 5 {
		t.Fatalf("produce before the fail-over: %+v %+v", first, second)
	}
	testbroker.VerifyReplicas(ctx, t, nodes, topic, 1)

	old := nodeByID(nodes, states[0].Leader)
	old.Stop()
	after := testbroker.WaitForISR(ctx, t, nodes, topic, 1, 2)
	retry := at(after[0].Leader, idempotentBatch(id, epoch, 5, 5))
	if retry.ErrorCode != 0 || retry.BaseOffset != 5 {
		t.Fatalf("retried batch at new leader %d: code %v offset %d, want its original offset 5",
			after[0].Leader, kerr.ErrorForCode(retry.ErrorCode), retry.BaseOffset)
	}
	gap := at(after[0].Leader, idempotentBatch(id, epoch, 20, 1))
	if gap.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("batch after a sequence gap at the new leader: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", kerr.ErrorForCode(gap.ErrorCode))
	}
	next := at(after[0].Leader, idempotentBatch(id, epoch, 10, 1))
	if next.ErrorCode != 0 || next.BaseOffset != 10 {
		t.Fatalf("next batch at the new leader: %+v", next)
	}
	if got := testbroker.CountValues(t, nodeByID(nodes, after[0].Leader).Addr(), topic); len(got) != 11 {
		t.Fatalf("read %d distinct values, want 11", len(got))
	}
}

// A leader whose disk fails stops taking writes (KAFKA_STORAGE_ERROR) and asks to be
// fenced, so that leadership moves to an in-sync replica: the producer's retries land
// there and nothing acknowledged is lost.
func TestLeaderDiskFailureMovesLeadership(t *testing.T) {
	disks := map[int32]*vfs.Switch{}
	for id := int32(1); id <= 3; id++ {
		disks[id] = vfs.NewSwitch(vfs.NewNoSpace(0))
	}
	perNode := func(c *broker.Config) { c.FS = vfs.WithErrors(vfs.Default, disks[c.NodeID]) }
	nodes := testbroker.StartCluster(t, 3, perNode)
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.Addr())
	}
	cl := testbroker.NewClient(t, seeds[0], kgo.SeedBrokers(seeds...), kgo.MetadataMinAge(50*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const topic = "disk"
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 3, map[string]*string{"min.insync.replicas": kmsg.StringPtr("2")}, topic); err != nil {
		t.Fatal(err)
	}
	states := testbroker.WaitForISR(ctx, t, nodes, topic, 1, 3)
	produceValues(ctx, t, cl, topic, 0, 100)
	failed := states[0].Leader
	disks[failed].On()
	produceValues(ctx, t, cl, topic, 100, 200)
	after := testbroker.WaitForISR(ctx, t, nodes, topic, 1, 2)
	if after[0].Leader == failed || containsID(after[0].ISR, failed) {
		t.Fatalf("broker %d, whose disk failed, still leads or is in sync: %+v", failed, after[0])
	}
	if b := nodeByID(nodes, after[0].Leader).Image().Brokers[failed]; !b.Fenced {
		t.Fatalf("broker %d, whose disk failed, is not fenced", failed)
	}
	if got := testbroker.CountValues(t, nodeByID(nodes, after[0].Leader).Addr(), topic); len(got) != 200 {
		t.Fatalf("read %d distinct values, want all 200 acknowledged", len(got))
	}
}
