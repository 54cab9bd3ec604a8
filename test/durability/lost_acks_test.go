package durability_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
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
	audit, stats := produceThroughLostAcks(t, "lost-acks-idempotent")
	if len(audit.missing) > 0 {
		t.Errorf("%d acknowledged values lost, e.g. %v", len(audit.missing), firstFew(audit.missing))
	}
	if len(audit.duplicated) > 0 {
		t.Errorf("idempotent producer: %d values duplicated by retries after lost acks (%d extra copies, %d responses dropped), e.g. %v",
			len(audit.duplicated), audit.copies, stats.Dropped, firstFew(audit.duplicated))
	}
}

// TestLostAcksPlainProducerDuplicates: without idempotence the broker cannot tell a retry
// from new data, so the retries after lost acks are written twice. This is the expected
// acks=all at-least-once behaviour, and the test demands it is actually observed — which
// shows the fault really hit written batches.
func TestLostAcksPlainProducerDuplicates(t *testing.T) {
	audit, stats := produceThroughLostAcks(t, "lost-acks-plain", kgo.DisableIdempotentWrite())
	if len(audit.missing) > 0 {
		t.Errorf("%d acknowledged values lost, e.g. %v", len(audit.missing), firstFew(audit.missing))
	}
	if len(audit.duplicated) == 0 {
		t.Errorf("no duplicates although %d produce responses were dropped and the non-idempotent producer retried", stats.Dropped)
	}
}

// produceThroughLostAcks produces lostAckValues unique values with acks=all through a
// proxy that drops Produce responses, reads the topic back directly from the broker and
// audits it. It fails the test unless responses were dropped and every value was acked.
func produceThroughLostAcks(t *testing.T, topic string, producerOpts ...kgo.Opt) (deliveryAudit, faults.Stats) {
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
	ledger := produceWindowed(t, testbroker.NewClient(t, proxy.Addr(), opts...), topic, topic, lostAckValues, lostAckWindow, lostAckTimeout)
	stats := proxy.Stats()

	audit := auditDelivery(ledger.ackedValues(), testbroker.CountValues(t, broker.Addr(), topic))
	acked, failed := ledger.counts()
	t.Logf("%s: sent %d, acked %d, failed %d, produce responses dropped %d (frames passed %d); found %d, duplicated %d (%d extra copies), missing %d",
		topic, lostAckValues, acked, failed, stats.Dropped, stats.Passed, audit.found, len(audit.duplicated), audit.copies, len(audit.missing))
	if stats.Dropped == 0 {
		t.Fatalf("the proxy dropped no produce responses; the fault never happened")
	}
	if failed > 0 {
		t.Fatalf("%d produces failed although the producer retries without limit; one: %s", failed, ledger.someFailure())
	}
	return audit, stats
}
