package records

import (
	"encoding/binary"
	"fmt"
)

// DefaultMaxMessageBytes is Kafka's default max.message.bytes.
const DefaultMaxMessageBytes = 1048588

// ValidateOptions are the topic- and request-dependent rules of Validate. The zero value
// is Kafka's default topic written by a Produce v3-v6 client.
type ValidateOptions struct {
	// MaxMessageBytes is the topic's max.message.bytes: the largest batch accepted,
	// header included. Zero means DefaultMaxMessageBytes.
	MaxMessageBytes int
	// MaxUncompressedBytes bounds a compressed batch's decompressed records. Zero means
	// 32 × MaxMessageBytes but at least 16 MiB; any value is capped at
	// MaxUncompressedLimit.
	MaxUncompressedBytes int
	// AllowZstd accepts zstd batches; Produce v7 and later set it. False (the default)
	// answers UNSUPPORTED_COMPRESSION_TYPE, as Kafka does for Produce v3-v6.
	AllowZstd bool
	// AllowControl accepts control batches. False (the default) rejects them: Kafka never
	// lets a client write a transaction marker.
	AllowControl bool
	// RequireKeys rejects records without a key, as Kafka does for compacted topics.
	RequireKeys bool
}

func (o ValidateOptions) maxMessageBytes() int {
	if o.MaxMessageBytes <= 0 {
		return DefaultMaxMessageBytes
	}
	return o.MaxMessageBytes
}

func (o ValidateOptions) maxUncompressedBytes() int {
	limit := o.MaxUncompressedBytes
	if limit <= 0 {
		limit = max(32*o.maxMessageBytes(), 16<<20)
	}
	return min(limit, MaxUncompressedLimit)
}

// Validate is the produce path's check of one partition's records, b, before they are
// appended. b must hold exactly one magic v2 batch, whose header Validate returns. It
// checks, in Kafka's order: one complete batch, magic, codec, size, CRC, producer
// fields, record count against lastOffsetDelta, and every record's framing (after
// decompressing, bounded by MaxUncompressedBytes). Every error wraps one sentinel of
// this package; KafkaCode maps it to the produce response's error code.
//
// Validate does not retain b. On an uncompressed batch it allocates nothing unless it
// fails; compressed batches use pooled decoders and buffers.
func Validate(b []byte, opts ValidateOptions) (Header, error) {
	if len(b) < lengthOffset {
		return Header{}, ErrNoBatch
	}
	length := int32(binary.BigEndian.Uint32(b[8:]))
	if length < HeaderSize-lengthOffset {
		return Header{}, ErrShortBatch
	}
	size := lengthOffset + int(length)
	if size > len(b) {
		return Header{}, ErrNoBatch
	}
	if size < len(b) {
		return Header{}, ErrNotOneBatch
	}
	h, err := ParseHeader(b)
	if err != nil {
		return h, err
	}
	switch c := h.Codec(); {
	case c > CodecZstd:
		return h, fmt.Errorf("%w: codec id %d", ErrBadCompression, c)
	case c == CodecZstd && !opts.AllowZstd:
		return h, fmt.Errorf("%w: zstd needs Produce v7 or later", ErrBadCompression)
	}
	if size > opts.maxMessageBytes() {
		return h, ErrTooLarge
	}
	if err := CheckCRC(b, h); err != nil {
		return h, err
	}
	if h.IsControl() && !opts.AllowControl {
		return h, ErrControlBatch
	}
	if err := checkProducerFields(h); err != nil {
		return h, err
	}
	if h.NumRecords < 1 || int64(h.LastOffsetDelta)+1 != int64(h.NumRecords) {
		return h, fmt.Errorf("%w: %d records with last offset delta %d",
			ErrInvalidRecord, h.NumRecords, h.LastOffsetDelta)
	}
	section := b[HeaderSize:size]
	if h.Codec() == CodecNone {
		return h, checkRecords(section, h.NumRecords, opts.RequireKeys)
	}
	// Each record takes at least minRecordSize bytes, so a count that the
	// decompression bound cannot hold is rejected before decompressing anything.
	limit := opts.maxUncompressedBytes()
	if int64(h.NumRecords)*minRecordSize > int64(limit) {
		return h, fmt.Errorf("%w: %d records cannot fit %d bytes", ErrUncompressedTooLarge, h.NumRecords, limit)
	}
	buf, err := decompress(h.Codec(), section, limit)
	if err != nil {
		return h, err
	}
	defer releaseBuffer(buf)
	return h, checkRecords(*buf, h.NumRecords, opts.RequireKeys)
}

// checkProducerFields applies Kafka's rules for the producer id, epoch and sequence.
func checkProducerFields(h Header) error {
	switch {
	case h.ProducerID < -1:
		return fmt.Errorf("%w: producer id %d", ErrInvalidSequence, h.ProducerID)
	case h.ProducerID == -1 && h.IsTransactional():
		return fmt.Errorf("%w: transactional batch without a producer id", ErrInvalidSequence)
	case h.ProducerID >= 0 && h.ProducerEpoch < 0:
		return fmt.Errorf("%w: producer id %d with epoch %d", ErrInvalidSequence, h.ProducerID, h.ProducerEpoch)
	case h.ProducerID >= 0 && h.BaseSequence < 0 && !h.IsControl():
		return fmt.Errorf("%w: producer id %d with base sequence %d", ErrInvalidSequence, h.ProducerID, h.BaseSequence)
	}
	return nil
}
