package durability_test

import (
	"testing"
	"time"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestKill9DuringAcksAllProduceKeepsEveryAck kills the broker process with SIGKILL while
// an idempotent acks=all producer is writing, three times, restarting it on the same data
// directory each time. Every acknowledged value must be in the log exactly once after
// each recovery, and the producer — one client for the whole test, retrying what was in
// flight at each crash — must never create a duplicate.
func TestKill9DuringAcksAllProduceKeepsEveryAck(t *testing.T) {
	const (
		topic          = "kill9"
		partitions     = 4
		acksPerCycle   = 3000
		cycles         = 3
		recoverTimeout = 30 * time.Second
	)
	broker := testbroker.StartProcess(t, waybillBinary)
	testbroker.CreateTopic(t, broker.Addr(), topic, partitions)

	// franz-go's defaults: acks=all, idempotent, unlimited retries.
	producer := startBackgroundProducer(testbroker.NewClient(t, broker.Addr()), topic, "kill9")
	defer producer.abandon() // ends the loop if a check fails midway

	for cycle := 1; cycle <= cycles; cycle++ {
		acked, _ := producer.ledger.counts()
		waitClosed(t, producer.ledger.ackedAtLeast(acked+acksPerCycle), recoverTimeout,
			"the producer to get its next acks")
		broker.Kill()
		producer.pause()
		ackedAtKill := producer.ledger.ackedValues()
		inFlightAtKill := producer.unresolved()
		broker.Restart()

		// The values not acknowledged at the kill may or may not be in the log: "extra"
		// counts those found, whether they survived the kill or were retried after it.
		audit := auditDelivery(ackedAtKill, testbroker.CountValues(t, broker.Addr(), topic))
		t.Logf("cycle %d: kill -9 after %d acks with %d values unresolved; after restart found %d, extra %d, duplicated %d, missing %d",
			cycle, audit.acked, inFlightAtKill, audit.found, audit.extra, len(audit.duplicated), len(audit.missing))
		assertNoLossNoDuplicates(t, audit)
		producer.resume()
	}

	producer.stop(t, recoverTimeout)
	audit := auditDelivery(producer.ledger.ackedValues(), testbroker.CountValues(t, broker.Addr(), topic))
	acked, failed := producer.ledger.counts()
	t.Logf("final: sent %d, acked %d, failed %d, found %d, extra %d, duplicated %d, missing %d",
		producer.sent.Load(), acked, failed, audit.found, audit.extra, len(audit.duplicated), len(audit.missing))
	assertNoLossNoDuplicates(t, audit)
	if failed > 0 {
		t.Errorf("%d produces failed although the producer retries without limit; one: %s", failed, producer.ledger.someFailure())
	}
}

func assertNoLossNoDuplicates(t *testing.T, audit deliveryAudit) {
	t.Helper()
	if len(audit.missing) > 0 {
		t.Errorf("%d acknowledged values lost, e.g. %v", len(audit.missing), firstFew(audit.missing))
	}
	if len(audit.duplicated) > 0 {
		t.Errorf("%d values appear more than once (%d extra copies), e.g. %v",
			len(audit.duplicated), audit.copies, firstFew(audit.duplicated))
	}
	if audit.missing != nil || audit.duplicated != nil {
		t.FailNow()
	}
}
