package durability_test

import (
	"testing"
	"time"

	"github.com/waybill/waybill/internal/lab"
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
	producer := startBackgroundProducer(testbroker.NewClient(t, broker.Addr()), topic, partitions, "kill9")
	defer producer.abandon() // ends the loop if a check fails midway

	for cycle := 1; cycle <= cycles; cycle++ {
		producer.waitAcked(t, producer.acked.Load()+acksPerCycle, recoverTimeout)
		broker.Kill()
		producer.pause()
		atKill := producer.rec.History()
		inFlightAtKill := producer.unresolved()
		broker.Restart()

		// The values not acknowledged at the kill have no send in atKill and may or may not
		// be in the log: "extra" counts those found, whether they survived the kill or were
		// retried after it.
		res := readBack(t, recorderWith(atKill), broker.Addr())
		t.Logf("cycle %d: kill -9 after %d acks with %d values unresolved; after restart found %d, extra %d, duplicated %d, missing %d",
			cycle, res.Acked, inFlightAtKill, res.Stored, res.Stored-(res.Acked-missing(res)), res.Counts[lab.Duplicated], missing(res))
		assertNoLossNoDuplicates(t, res)
		producer.resume()
	}

	producer.stop(t, recoverTimeout)
	res := readBack(t, producer.rec, broker.Addr())
	t.Logf("final: sent %d, acked %d, failed %d, found %d, extra %d, duplicated %d, missing %d",
		res.Sent, res.Acked, notAcked(res), res.Stored, res.Stored-(res.Acked-missing(res)), res.Counts[lab.Duplicated], missing(res))
	assertNoLossNoDuplicates(t, res)
	if n := notAcked(res); n > 0 {
		t.Errorf("%d produces failed although the producer retries without limit; one: %s", n, someFailure(producer.rec.History()))
	}
}

func assertNoLossNoDuplicates(t *testing.T, res lab.Result) {
	t.Helper()
	if n := missing(res); n > 0 {
		t.Errorf("%d acknowledged values lost, e.g. %v", n, missingExamples(res))
	}
	if n := res.Counts[lab.Duplicated]; n > 0 {
		t.Errorf("values appear more than once (%d extra copies), e.g. %v", n, res.Examples[lab.Duplicated])
	}
	if missing(res) > 0 || res.Counts[lab.Duplicated] > 0 {
		t.FailNow()
	}
}
