package exactlyonce_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// isFencingError reports whether err is one of the errors by which Kafka tells a producer
// that a newer instance with the same transactional id has taken over.
func isFencingError(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch)
}

// TestZombieProducerIsFenced: producer A begins a transaction and produces; producer B
// with the same transactional id initialises, which fences A and aborts A's transaction.
// A's next produce and its commit fail with a fencing error, A's records never become
// visible to read_committed, and B's committed records do.
func TestZombieProducerIsFenced(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic = "fenced"
	testbroker.CreateTopic(t, b.Addr(), topic, 1)

	zombie := newTransactionalClient(t, b.Addr(), "shared-id")
	beginTxn(t, zombie)
	produceInTxn(t, zombie, topic, numbered("zombie-before-fence", 10)...)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	zombieID, zombieEpoch, err := zombie.ProducerID(ctx)
	if err != nil {
		t.Fatalf("the zombie's producer id: %v", err)
	}

	successor := newTransactionalClient(t, b.Addr(), "shared-id")
	beginTxn(t, successor) // its first produce runs InitProducerId, which fences the zombie
	produceInTxn(t, successor, topic, numbered("successor", 10)...)

	produceErr := produceInTxnErr(zombie, topic, "zombie-after-fence")
	if !isFencingError(produceErr) {
		t.Errorf("zombie produce after the fence: got %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", produceErr)
	}
	// After a failed produce kgo refuses to send the commit itself
	// (OPERATION_NOT_ATTEMPTED), so the broker's answer to the zombie's EndTxn is asked
	// directly, with the zombie's producer id and epoch.
	clientCommitErr := zombie.EndTransaction(ctx, kgo.TryCommit)
	if clientCommitErr == nil {
		t.Errorf("the zombie's commit through kgo succeeded")
	}
	brokerCommitErr := endTxnRaw(ctx, zombie, "shared-id", zombieID, zombieEpoch, true)
	if !isFencingError(brokerCommitErr) {
		t.Errorf("EndTxn(commit) with the zombie's epoch %d: got %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH",
			zombieEpoch, brokerCommitErr)
	}
	endTxn(t, successor, kgo.TryCommit)

	reader := testbroker.NewClient(t, b.Addr())
	waitAllStable(t, reader, topic, 10*time.Second)
	committed := countValues(readTopic(t, reader, topic, readCommitted)[0].Values())
	for v := range committed {
		if strings.HasPrefix(v, "zombie") {
			t.Errorf("read_committed returned the zombie's %q", v)
		}
	}
	for _, v := range numbered("successor", 10) {
		if committed[v] != 1 {
			t.Errorf("read_committed returned the successor's %q %d times, want 1", v, committed[v])
		}
	}
	uncommitted := countValues(readTopic(t, reader, topic, readUncommitted)[0].Values())
	if uncommitted["zombie-before-fence-0"] != 1 {
		t.Errorf("read_uncommitted does not show the zombie's pre-fence records; the test did not exercise an aborted write")
	}
	if uncommitted["zombie-after-fence"] != 0 {
		t.Errorf("the fenced produce was appended to the log (read_uncommitted shows it)")
	}
	t.Logf("zombie (producer %d epoch %d): produce error %v; kgo commit error %v; broker EndTxn error %v; committed values: %d",
		zombieID, zombieEpoch, produceErr, clientCommitErr, brokerCommitErr, len(committed))
}

// endTxnRaw sends EndTxn for the given producer id and epoch, bypassing the client's
// transaction state, and returns the broker's error.
func endTxnRaw(ctx context.Context, cl *kgo.Client, txnID string, producerID int64, epoch int16, commit bool) error {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID = txnID
	req.ProducerID = producerID
	req.ProducerEpoch = epoch
	req.Commit = commit
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(resp.ErrorCode)
}
