package durability_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/lab"
	"github.com/waybill/waybill/internal/testbroker"
)

// Lost acks: the proxy swallows every 50th Produce response (at most 10) and cuts the
// connection, so the broker has written the batch but the client never hears of it and
// sends it again on a new connection.
const (
	lostAckValues     = 4000
	lostAckWindow     = 8 // values in flight at once: many small produce requests
	lostAckEvery      = 50
	lostAckLimit      = 10
	lostAckPartitions = 4
	lostAckTimeout    = 30 * time.Second
)

// TestLostAcksIdempotentProducerNeverDuplicates: with idempotence (franz-go's default),
// the retried batches are recognised by their sequence numbers and get their original
// offsets back, so every value is in the log exactly once.
func TestLostAcksIdempotentProducerNeverDuplicates(t *testing.T) {
	res, stats := produceThroughLostAcks(t, "lost-acks-idempotent")
	if n := missing(res); n > 0 {
		t.Errorf("%d acknowledged values lost, e.g. %v", n, missingExamples(res))
	}
	if n := res.Counts[lab.Duplicated]; n > 0 {
		t.Errorf("idempotent producer: values duplicated by retries after lost acks (%d extra copies, %d responses dropped), e.g. %v",
			n, stats.Dropped, res.Examples[lab.Duplicated])
	}
}

// TestLostAcksPlainProducerDuplicates: without idempotence the broker cannot tell a retry
// from new data, so the retries after lost acks are written twice. This is the expected
// acks=all at-least-once behaviour, and the test demands it is actually observed — which
// shows the fault really hit written batches.
func TestLostAcksPlainProducerDuplicates(t *testing.T) {
	res, stats := produceThroughLostAcks(t, "lost-acks-plain", kgo.DisableIdempotentWrite())
	if n := missing(res); n > 0 {
		t.Errorf("%d acknowledged values lost, e.g. %v", n, missingExamples(res))
	}
	if res.Counts[lab.Duplicated] == 0 {
		t.Errorf("no duplicates although %d produce responses were dropped and the non-idempotent producer retried", stats.Dropped)
	}
}

// produceThroughLostAcks produces lostAckValues unique values with acks=all through a
// proxy that drops Produce responses, reads the topic back directly from the broker and
// checks the history. It fails the test unless responses were dropped and every value was
// acked.
func produceThroughLostAcks(t *testing.T, topic string, producerOpts ...kgo.Opt) (lab.Result, faults.Stats) {
	t.Helper()
	broker := testbroker.Start(t)
	testbroker.CreateTopic(t, broker.Addr(), topic, lostAckPartitions)
	proxy, err := faults.NewProxy(broker.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	proxy.SetRule(faults.DropResponses(int16(kmsg.Produce), faults.Every(lostAckEvery, lostAckLimit)))

	// Delivery settings stay franz-go's (acks=all, retries without limit, idempotence unless
	// disabled); no linger and round-robin only make many small requests over all partitions.
	opts := append([]kgo.Opt{
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
	}, producerOpts...)
	rec := produceWindowed(t, testbroker.NewClient(t, proxy.Addr(), opts...), topic, lostAckPartitions, topic, lostAckValues, lostAckWindow, lostAckTimeout)
	stats := proxy.Stats()

	res := readBack(t, rec, broker.Addr())
	t.Logf("%s: sent %d, acked %d, failed %d, produce responses dropped %d (frames passed %d); found %d, duplicated %d extra copies, missing %d",
		topic, res.Sent, res.Acked, notAcked(res), stats.Dropped, stats.Passed, res.Stored, res.Counts[lab.Duplicated], missing(res))
	if stats.Dropped == 0 {
		t.Fatalf("the proxy dropped no produce responses; the fault never happened")
	}
	if n := notAcked(res); n > 0 || res.Acked != lostAckValues {
		t.Fatalf("%d of %d values acked although the producer retries without limit; one failure: %s",
			res.Acked, lostAckValues, someFailure(rec.History()))
	}
	return res, stats
}
