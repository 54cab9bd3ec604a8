package records

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestKafkaCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want *kerr.Error
	}{
		{ErrBadCRC, kerr.CorruptMessage},
		{ErrShortBatch, kerr.CorruptMessage},
		{ErrCorruptCompressed, kerr.CorruptMessage},
		{ErrTooLarge, kerr.MessageTooLarge},
		{ErrUncompressedTooLarge, kerr.MessageTooLarge},
		{ErrBadCompression, kerr.UnsupportedCompressionType},
		{ErrNoBatch, kerr.InvalidRecord},
		{ErrNotOneBatch, kerr.InvalidRecord},
		{ErrBadMagic, kerr.InvalidRecord},
		{ErrInvalidRecord, kerr.InvalidRecord},
		{ErrInvalidSequence, kerr.InvalidRecord},
		{ErrControlBatch, kerr.InvalidRecord},
		{ErrMissingKey, kerr.InvalidRecord},
		{ErrNotMarker, kerr.InvalidRecord},
		{fmt.Errorf("wrapped: %w", ErrBadCRC), kerr.CorruptMessage},
		{fmt.Errorf("wrapped: %w", kerr.OutOfOrderSequenceNumber), kerr.OutOfOrderSequenceNumber},
		{kerr.InvalidProducerEpoch, kerr.InvalidProducerEpoch},
		{errors.New("disk on fire"), kerr.UnknownServerError},
	} {
		if got := KafkaCode(tc.err); got != tc.want.Code {
			t.Errorf("KafkaCode(%v) = %d, want %d (%s)", tc.err, got, tc.want.Code, tc.want.Message)
		}
	}
	if KafkaCode(nil) != 0 {
		t.Error("KafkaCode(nil) != 0")
	}
}
