package durability_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/lab"
)

// readBackTimeout bounds the final read of a topic.
const readBackTimeout = 30 * time.Second

// producedSend is what a kgo promise learned about the seq-th value of the only producer.
func producedSend(seq int, start time.Time, r *kgo.Record, err error) lab.Send {
	return lab.ProducedSend(1, seq, lab.NoTxn, start, r, err)
}

// readBack reads the recorder's topic from addr to its end as the final read and checks
// the history.
func readBack(t *testing.T, rec *lab.Recorder, addr string) lab.Result {
	t.Helper()
	topic := rec.History().Topic
	if err := lab.ReadFinal(context.Background(), rec, addr, topic, false, readBackTimeout); err != nil {
		t.Fatal(err)
	}
	return lab.Check(rec.History())
}

// recorderWith is a recorder holding the sends of h, for checking a snapshot of a history
// against a read taken later.
func recorderWith(h *lab.History) *lab.Recorder {
	rec := lab.NewRecorder(h.Topic, h.Partitions)
	for _, s := range h.Sends {
		rec.Send(s)
	}
	return rec
}

// missing counts the acknowledged values the final read did not find: lost, or beyond a
// partition it could not read to its end.
func missing(res lab.Result) int { return res.Counts[lab.Lost] + res.Counts[lab.Unseen] }

// missingExamples gives a few of them, for messages.
func missingExamples(res lab.Result) []string {
	return firstFew(append(append([]string(nil), res.Examples[lab.Lost]...), res.Examples[lab.Unseen]...))
}

// notAcked counts the sends that ended without an ack.
func notAcked(res lab.Result) int { return res.Failed + res.Unknown }

// someFailure describes one send that ended without an ack, for messages.
func someFailure(h *lab.History) string {
	for _, s := range h.Sends {
		if s.Outcome != lab.OK {
			return fmt.Sprintf("%s (%s): %s", s.Value, s.Outcome, s.Err)
		}
	}
	return "none"
}

// firstFew keeps messages short when many values are listed.
func firstFew(values []string) []string {
	if len(values) > 5 {
		return values[:5]
	}
	return values
}
