package records

import (
	"fmt"
	"math"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's LogValidator checks every record of a produced batch against topic rules that
// Validate (framing only) cannot know: a compacted topic needs keys, and a CreateTime
// topic bounds how far a timestamp may be from the broker's clock (KIP-937). Unlike the
// framing checks, these reject individual records, and since KIP-467 the produce response
// names each one (batch index and message) so a client can tell which record was bad.

// NoTimestamp is the timestamp of a record written without one; Kafka never rejects it.
const NoTimestamp = -1

// ErrInvalidTimestamp: a record's CreateTime is outside the topic's bounds. It wraps
// kerr.InvalidTimestamp, which is how KafkaCode maps it to INVALID_TIMESTAMP (32).
var ErrInvalidTimestamp = fmt.Errorf("records: timestamp out of range: %w", kerr.InvalidTimestamp)

// RecordRules are the per-record rules of a topic. The zero value accepts every record.
type RecordRules struct {
	// RequireKeys rejects records without a key (cleanup.policy contains compact).
	RequireKeys bool
	// CheckTimestamps rejects records whose timestamp is outside [MinTimestamp,
	// MaxTimestamp] (message.timestamp.type=CreateTime). Records without a timestamp
	// (NoTimestamp) pass.
	CheckTimestamps            bool
	MinTimestamp, MaxTimestamp int64
	// Topic and Partition name the partition in the messages, as Kafka's do; the name
	// is formatted only for a rejected record, keeping the accepting path free of
	// allocations.
	Topic     string
	Partition int32
}

// TimestampBounds returns the accepted CreateTime range at now (milliseconds) for
// message.timestamp.before.max.ms and message.timestamp.after.max.ms, saturating instead
// of overflowing (both default to huge values).
func TimestampBounds(now, beforeMaxMs, afterMaxMs int64) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if beforeMaxMs >= 0 && now >= math.MinInt64+beforeMaxMs { // now - beforeMaxMs fits
		lo = now - beforeMaxMs
	}
	if afterMaxMs >= 0 && now <= math.MaxInt64-afterMaxMs {
		hi = now + afterMaxMs
	}
	return lo, hi
}

// timestampsMayFail reports whether a batch with header h can hold a record outside
// the timestamp bounds, judging by the batch's own base and max timestamps.
func (r RecordRules) timestampsMayFail(h Header) bool {
	if !r.CheckTimestamps {
		return false
	}
	return r.badTimestamp(h.BaseTimestamp) || r.badTimestamp(h.MaxTimestamp)
}

func (r RecordRules) badTimestamp(ts int64) bool {
	return ts != NoTimestamp && (ts < r.MinTimestamp || ts > r.MaxTimestamp)
}

// RecordError is one rejected record: its index in the batch and why, as in a Produce
// v8+ response's RecordErrors.
type RecordError struct {
	Index   int32
	Message string
}

// RejectedRecordsError lists every record of a batch that broke the topic's rules. It
// wraps ErrInvalidTimestamp when any record's timestamp was out of range (Kafka then
// answers INVALID_TIMESTAMP for the whole batch), ErrMissingKey otherwise.
type RejectedRecordsError struct {
	Records      []RecordError
	anyTimestamp bool
}

// Error is the message Kafka puts in the produce response's ErrorMessage.
func (e *RejectedRecordsError) Error() string {
	if e.anyTimestamp {
		return "One or more records have been rejected due to invalid timestamp"
	}
	shown := e.Records[:min(len(e.Records), 3)]
	parts := make([]string, len(shown))
	for i, re := range shown {
		parts[i] = fmt.Sprintf("RecordError(batchIndex=%d, message='%s')", re.Index, re.Message)
	}
	return fmt.Sprintf("One or more records have been rejected due to %d record errors in total, "+
		"and only showing the first three errors at most: [%s]", len(e.Records), strings.Join(parts, ", "))
}

func (e *RejectedRecordsError) Unwrap() error {
	if e.anyTimestamp {
		return ErrInvalidTimestamp
	}
	return ErrMissingKey
}

// recordJudge collects the rule violations of one batch's records. It allocates only
// when a record fails.
type recordJudge struct {
	rules RecordRules
	h     Header
	err   *RejectedRecordsError
}

// judge applies the rules to the record at index; like Kafka, a record without a key is
// reported for that alone, even if its timestamp is also out of range.
func (j *recordJudge) judge(index int32, rec *Record) {
	switch {
	case j.rules.RequireKeys && rec.Key == nil:
		j.reject(index, false, fmt.Sprintf("Compacted topic cannot accept message without key in topic partition %s-%d.",
			j.rules.Topic, j.rules.Partition))
	case j.rules.CheckTimestamps && j.rules.badTimestamp(j.h.BaseTimestamp+rec.TimestampDelta):
		ts := j.h.BaseTimestamp + rec.TimestampDelta
		j.reject(index, true, fmt.Sprintf("Timestamp %d of message with offset %d is out of range. "+
			"The timestamp should be within [%d, %d]",
			ts, j.h.BaseOffset+int64(rec.OffsetDelta), j.rules.MinTimestamp, j.rules.MaxTimestamp))
	}
}

func (j *recordJudge) reject(index int32, timestamp bool, msg string) {
	if j.err == nil {
		j.err = &RejectedRecordsError{}
	}
	j.err.Records = append(j.err.Records, RecordError{Index: index, Message: msg})
	j.err.anyTimestamp = j.err.anyTimestamp || timestamp
}

// result is nil when every record passed; a typed nil would not compare equal to nil.
func (j *recordJudge) result() error {
	if j.err == nil {
		return nil
	}
	return j.err
}

// CheckRecords applies rules to every record of b, a batch Validate accepted with header
// h, and returns a *RejectedRecordsError naming each rejected record, or nil. A malformed
// record (which Validate would have refused) ends the walk with ErrInvalidRecord.
//
// An uncompressed batch is walked in place and nothing is allocated unless a record
// fails; a compressed one is decompressed into a pooled buffer.
func CheckRecords(b []byte, h Header, rules RecordRules) error {
	section := b[HeaderSize:h.Size()]
	if c := h.Codec(); c != CodecNone {
		buf, err := decompress(c, section, MaxUncompressedLimit)
		if err != nil {
			return err
		}
		defer releaseBuffer(buf)
		section = *buf
	}
	return checkRules(section, h, rules)
}

// checkRules walks the records section of a batch with header h through rules.
func checkRules(section []byte, h Header, rules RecordRules) error {
	j := recordJudge{rules: rules, h: h}
	w := recordWalker{rest: section}
	var rec Record
	for i := int32(0); i < h.NumRecords; i++ {
		if err := w.next(&rec, walkCheck); err != nil {
			return err
		}
		j.judge(i, &rec)
	}
	if err := w.checkEnd(h.NumRecords); err != nil {
		return err
	}
	return j.result()
}

// CheckTimestamps is CheckRecords for the timestamp rule alone, cheap where it can be: it
// walks an uncompressed batch (no allocation), but for a compressed one it trusts the
// batch's base and max timestamps, which every Kafka client writes as its first and
// largest record timestamps, and decompresses only when those are out of range, to find
// the records to name. A compressed batch whose records go below its base timestamp
// (negative deltas, when an application sets timestamps out of order) is therefore
// judged by its base timestamp; this saves decompressing every compressed batch twice.
func CheckTimestamps(b []byte, h Header, rules RecordRules) error {
	rules.RequireKeys = false // Validate has already checked keys
	if !rules.CheckTimestamps {
		return nil
	}
	if h.Codec() != CodecNone && !rules.timestampsMayFail(h) {
		return nil
	}
	return CheckRecords(b, h, rules)
}
