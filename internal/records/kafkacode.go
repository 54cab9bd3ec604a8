package records

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Errors added by Validate, Iterate and the control-batch helpers, next to the ones in
// header.go. Errors returned by this package wrap exactly one sentinel (some add detail
// with fmt.Errorf), so errors.Is and KafkaCode work on them.
var (
	// ErrNoBatch: the produce data holds no complete batch (empty, or the first batch's
	// length field runs past the end).
	ErrNoBatch = errors.New("records: no complete record batch")
	// ErrControlBatch: a client tried to write a control batch (transaction marker).
	ErrControlBatch = errors.New("records: clients may not write control batches")
	// ErrMissingKey: a record without a key for a topic that requires keys (compacted).
	ErrMissingKey = errors.New("records: record without a key on a compacted topic")
	// ErrCorruptCompressed: the compressed records do not decompress.
	ErrCorruptCompressed = errors.New("records: compressed records do not decompress")
	// ErrUncompressedTooLarge: the records decompress to more than the allowed bound.
	ErrUncompressedTooLarge = errors.New("records: decompressed records exceed the size bound")
	// ErrNotMarker: the batch is not a transaction marker (commit or abort).
	ErrNotMarker = errors.New("records: not a transaction marker batch")
)

// KafkaCode maps an error from this package to the Kafka error code a produce response
// carries for the partition. It follows what Apache Kafka answers (ProduceRequest's
// validateRecords, LogValidator, DefaultRecord parsing):
//
//	nil                                         NONE (0)
//	ErrBadCRC, ErrShortBatch, ErrCorruptCompressed   CORRUPT_MESSAGE (2), retriable
//	ErrTooLarge, ErrUncompressedTooLarge        MESSAGE_TOO_LARGE (10); the Java producer
//	                                            splits the batch and retries
//	ErrBadCompression                           UNSUPPORTED_COMPRESSION_TYPE (76)
//	ErrNoBatch, ErrNotOneBatch, ErrBadMagic,    INVALID_RECORD (87), not retriable
//	ErrInvalidRecord, ErrInvalidSequence,
//	ErrControlBatch, ErrMissingKey, ErrNotMarker
//	a *kerr.Error (wrapped or not)              its own code
//	anything else                               UNKNOWN_SERVER_ERROR (-1)
//
// Kafka answers INVALID_RECORD, not UNSUPPORTED_FOR_MESSAGE_FORMAT, to a Produce v3+
// batch whose magic is not 2 ("are only allowed to contain record batches with magic
// version 2"), and INVALID_RECORD to malformed records inside a batch ("Found invalid
// record structure"); CORRUPT_MESSAGE is for the batch's CRC and size framing.
func KafkaCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, m := range codeTable {
		if errors.Is(err, m.err) {
			return m.code.Code
		}
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

var codeTable = [...]struct {
	err  error
	code *kerr.Error
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
}
