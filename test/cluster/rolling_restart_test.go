package cluster_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/lab"
	"github.com/waybill/waybill/internal/testbroker"
)

// replicatedInternalTopics makes __consumer_offsets and __transaction_state three
// replicas of three partitions each, so that groups and transactions survive the loss of
// one node.
var replicatedInternalTopics = map[string]string{
	"offsets.topic.replication.factor":         "3",
	"offsets.topic.num.partitions":             "3",
	"transaction.state.log.replication.factor": "3",
	"transaction.state.log.num.partitions":     "3",
	"transaction.state.log.min.isr":            "2",
}

// TestRollingRestartBySigtermLosesNothing restarts each node of the cluster in turn with
// SIGTERM (a controlled shutdown: its leaderships move to in-sync followers first), while
// an idempotent acks=all producer writes and a consumer group (at-least-once: process,
// then commit) consumes. Each node must hand over every leadership it held before it
// exits, the producer must keep getting acks while it is down, and it must be back in
// every ISR before the next is stopped. No produce may end with a non-retriable error;
// after the run the group must have committed to the end of every partition, and the
// checker must find every acknowledged value exactly once, in order, with no consumer
// skipping a value; the replicas' logs must be identical batch by batch.
func TestRollingRestartBySigtermLosesNothing(t *testing.T) {
	const (
		topic      = "rolling"
		partitions = 3
		acksPerRun = 1500
	)
	pc := testbroker.StartProcessCluster(t, waybillBinary, 3, testbroker.ProcessClusterOptions{BrokerConfig: replicatedInternalTopics})
	createReplicatedTopic(t, pc, topic, partitions)
	producer := startClusterProducer(t, pc.Addrs(), topic, partitions, "roll")
	// The consumer's poll errors (the lab logs them at debug level) explain a rewind: the
	// handler serialises its writes, and the buffer is read once the consumer stopped.
	pollErrors := &bytes.Buffer{}
	consumer := lab.NewConsumer(lab.ConsumerConfig{Topic: topic, Group: "rolling-group", Strategy: lab.CommitAfterProcess, Recorder: producer.rec,
		Logger: slog.New(slog.NewTextHandler(pollErrors, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	member, err := consumer.Start(ctx, strings.Join(pc.Addrs(), ","))
	if err != nil {
		t.Fatal(err)
	}
	defer member.Stop()

	for _, id := range pc.IDs() {
		producer.waitAcked(t, producer.acked.Load()+acksPerRun, rejoinTimeout)
		before := pc.WaitPartitions(topic, rejoinTimeout, "every partition fully in sync", pc.FullyInSync)
		start := time.Now()
		pc.Stop(id)
		stopped := time.Since(start)
		// A controlled shutdown moves leaderships before the process exits, so the
		// survivors name other leaders at once.
		after := pc.WaitPartitions(topic, failoverTimeout, "leaders other than the stopped node", func(s []testbroker.PartitionState) bool {
			for _, p := range s {
				if p.Leader < 0 || p.Leader == id {
					return false
				}
			}
			return true
		})
		producer.waitAcked(t, producer.acked.Load()+acksPerRun, failoverTimeout)
		pc.Restart(id)
		pc.WaitPartitions(topic, rejoinTimeout, "the restarted node back in every ISR", pc.FullyInSync)
		t.Logf("node %d: stopped in %v (leaders %v, then %v), back in sync %v after the stop; %d acks",
			id, stopped.Round(time.Millisecond), leaders(before), leaders(after), time.Since(start).Round(time.Millisecond), producer.acked.Load())
	}
	producer.waitAcked(t, producer.acked.Load()+acksPerRun, rejoinTimeout)
	producer.stop(t, flushTimeout)

	ends := endOffsets(t, pc, topic)
	waitCtx, waitCancel := context.WithTimeout(ctx, readBackTimeout)
	defer waitCancel()
	if err := consumer.WaitCommitted(waitCtx, ends); err != nil {
		t.Fatalf("the consumer group did not commit up to the end offsets %v: %v", ends, err)
	}
	member.Stop()
	producer.rec.ConsumersRan()

	if pollErrors.Len() > 0 {
		lines := strings.Split(strings.TrimSpace(pollErrors.String()), "\n")
		t.Logf("the consumer's poll errors (%d):\n%s", len(lines), strings.Join(firstFew(lines), "\n"))
	}
	res := readBackAndCheck(t, producer.rec, pc)
	t.Logf("sent %d, acked %d, failed %d, unknown %d, found %d distinct, consumed %d distinct",
		res.Sent, res.Acked, res.Failed, res.Unknown, res.Stored, res.Consumed)
	// At-least-once: a consumer that loses its group coordinator may process again what it
	// had not committed yet.
	assertEveryAckOnce(t, res, lab.Reprocessed)
	var fatal []error
	for _, err := range producer.errors() {
		if !kerr.IsRetriable(err) {
			fatal = append(fatal, err)
		}
	}
	if len(fatal) > 0 {
		t.Errorf("%d produces ended with a non-retriable error, e.g. %v", len(fatal), firstFew(fatal))
	}
	if n := len(producer.errors()) - len(fatal); n > 0 {
		t.Logf("%d produces ended with a retriable error", n)
	}
	compareReplicas(t, pc, topic, "__consumer_offsets")
}

func leaders(s []testbroker.PartitionState) []int32 {
	var ids []int32
	for _, p := range s {
		ids = append(ids, p.Leader)
	}
	return ids
}
