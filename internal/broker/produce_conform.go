package broker

// The topic-dependent half of Kafka's LogValidator: after records.Validate has checked a
// produced batch's framing, the topic decides whether each record is acceptable (keys on
// compacted topics, CreateTime bounds) and in which codec the batch is stored
// (compression.type). Rejections name the offending records in the Produce v8+ response
// (KIP-467).

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/records"
)

// recordRules are the per-record rules of topic config tc for a batch produced at now.
func recordRules(topic string, index int32, tc config.Topic, now time.Time) records.RecordRules {
	rules := records.RecordRules{
		RequireKeys:     tc.CleanupPolicyCompact,
		CheckTimestamps: !tc.LogAppendTime(),
		Topic:           topic,
		Partition:       index,
	}
	if rules.CheckTimestamps {
		// KIP-937 split message.timestamp.difference.max.ms into a bound for each side;
		// the deprecated config still applies to both when it is the tighter one.
		before := min(tc.MessageTimestampBeforeMaxMs, tc.MessageTimestampDifferenceMaxMs)
		after := min(tc.MessageTimestampAfterMaxMs, tc.MessageTimestampDifferenceMaxMs)
		rules.MinTimestamp, rules.MaxTimestamp = records.TimestampBounds(now.UnixMilli(), before, after)
	}
	return rules
}

// storedCodec is the codec compression.type stores batches with, and its level; keep is
// set for "producer", which stores batches as the producer sent them.
func storedCodec(tc config.Topic) (codec records.Codec, level int, keep bool) {
	switch tc.CompressionType {
	case "uncompressed":
		return records.CodecNone, 0, false
	case "gzip":
		return records.CodecGzip, int(tc.CompressionGzipLevel), false
	case "snappy":
		return records.CodecSnappy, 0, false
	case "lz4":
		return records.CodecLZ4, int(tc.CompressionLz4Level), false
	case "zstd":
		return records.CodecZstd, int(tc.CompressionZstdLevel), false
	}
	return 0, 0, true
}

// conformBatch applies the topic's timestamp bounds and compression.type to a batch
// records.Validate accepted (with the topic's key rule), returning the batch to append
// and its header. Only a batch stored in another codec is copied; the others are
// returned as they came.
func conformBatch(batch []byte, h records.Header, tc config.Topic, rules records.RecordRules) ([]byte, records.Header, error) {
	codec, level, keep := storedCodec(tc)
	if keep || codec == h.Codec() {
		return batch, h, records.CheckTimestamps(batch, h, rules)
	}
	rules.RequireKeys = false // Validate has checked keys
	out, err := records.Recompress(batch, h, codec, level, rules)
	if err != nil {
		return nil, h, err
	}
	// A batch that grew (gzip to uncompressed, say) must still fit the topic, as Kafka
	// checks again after it recompressed.
	if len(out) > int(tc.MaxMessageBytes) && tc.MaxMessageBytes > 0 {
		return nil, h, fmt.Errorf("%w: %d bytes after recompression exceed %d",
			records.ErrTooLarge, len(out), tc.MaxMessageBytes)
	}
	nh, err := records.ParseHeader(out)
	return out, nh, err
}

// allRecordErrors turns Validate's first missing key into the full list Kafka reports,
// with the timestamp rule applied to the other records too. It costs a second walk, but
// only for a batch that is refused anyway.
func allRecordErrors(batch []byte, h records.Header, err error, rules records.RecordRules) error {
	if !errors.Is(err, records.ErrMissingKey) {
		return err
	}
	if all := records.CheckRecords(batch, h, rules); all != nil {
		return all
	}
	return err
}

// produceRejection is the partition's error code for a refused batch; record rule
// violations also fill the Produce v8+ error message and record errors (KIP-467), which
// kmsg leaves out of older versions.
func produceRejection(err error, out *kmsg.ProduceResponseTopicPartition) int16 {
	var rejected *records.RejectedRecordsError
	if errors.As(err, &rejected) {
		msg := rejected.Error()
		out.ErrorMessage = &msg
		out.ErrorRecords = make([]kmsg.ProduceResponseTopicPartitionErrorRecord, len(rejected.Records))
		for i, re := range rejected.Records {
			e := &out.ErrorRecords[i]
			*e = kmsg.NewProduceResponseTopicPartitionErrorRecord()
			e.RelativeOffset = re.Index
			e.ErrorMessage = kmsg.StringPtr(re.Message)
		}
	}
	return records.KafkaCode(err)
}
