// Package records reads and checks Kafka record batches (magic v2) without decoding
// their records on the hot path.
//
// A batch on the wire and on disk is laid out as follows (big endian):
//
//	offset  size  field
//	0       8     baseOffset            assigned by the broker, outside the CRC
//	8       4     batchLength           bytes after this field
//	12      4     partitionLeaderEpoch  stamped by the broker, outside the CRC
//	16      1     magic                 always 2
//	17      4     crc                   CRC-32C of everything from attributes to the end
//	21      2     attributes            compression(0-2) timestampType(3) transactional(4) control(5)
//	23      4     lastOffsetDelta
//	27      8     baseTimestamp
//	35      8     maxTimestamp
//	43      8     producerId
//	51      2     producerEpoch
//	53      4     baseSequence
//	57      4     recordCount
//	61      ...   records, compressed as a whole when compression != 0
package records

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// HeaderSize is the size of a v2 batch header, up to and including the record count.
const HeaderSize = 61

// lengthOffset is the number of bytes before batchLength's count starts: a batch's total
// size is lengthOffset + batchLength.
const lengthOffset = 12

const crcStart = 21

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// Errors from parsing and validation. The broker maps them to Kafka error codes.
var (
	ErrShortBatch      = errors.New("records: batch shorter than its header or its length field")
	ErrBadMagic        = errors.New("records: unsupported magic byte (only v2 batches are accepted)")
	ErrBadCRC          = errors.New("records: CRC-32C mismatch")
	ErrInvalidRecord   = errors.New("records: malformed records inside batch")
	ErrBadCompression  = errors.New("records: unknown compression codec")
	ErrTooLarge        = errors.New("records: batch larger than max.message.bytes")
	ErrNotOneBatch     = errors.New("records: produce must carry exactly one batch per partition")
	ErrInvalidSequence = errors.New("records: invalid producer fields")
)

// Codec is the compression codec of a batch (attributes bits 0-2).
type Codec int8

const (
	CodecNone Codec = iota
	CodecGzip
	CodecSnappy
	CodecLZ4
	CodecZstd
)

const (
	attrCompressionMask = 0x07
	attrLogAppendTime   = 0x08
	attrTransactional   = 0x10
	attrControl         = 0x20
)

// Header is the parsed fixed part of a batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // batchLength: bytes after the length field
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// ParseHeader reads the header of the batch at the start of b. It checks only that the
// header is there and that the magic byte is 2; b may hold more than one batch.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShortBatch
	}
	h := Header{
		BaseOffset:           int64(binary.BigEndian.Uint64(b[0:])),
		Length:               int32(binary.BigEndian.Uint32(b[8:])),
		PartitionLeaderEpoch: int32(binary.BigEndian.Uint32(b[12:])),
		Magic:                int8(b[16]),
		CRC:                  binary.BigEndian.Uint32(b[17:]),
		Attributes:           int16(binary.BigEndian.Uint16(b[21:])),
		LastOffsetDelta:      int32(binary.BigEndian.Uint32(b[23:])),
		BaseTimestamp:        int64(binary.BigEndian.Uint64(b[27:])),
		MaxTimestamp:         int64(binary.BigEndian.Uint64(b[35:])),
		ProducerID:           int64(binary.BigEndian.Uint64(b[43:])),
		ProducerEpoch:        int16(binary.BigEndian.Uint16(b[51:])),
		BaseSequence:         int32(binary.BigEndian.Uint32(b[53:])),
		NumRecords:           int32(binary.BigEndian.Uint32(b[57:])),
	}
	if h.Magic != 2 {
		return h, ErrBadMagic
	}
	if h.Length < HeaderSize-lengthOffset {
		return h, ErrShortBatch
	}
	return h, nil
}

// Size is the batch's total size in bytes, header included.
func (h Header) Size() int { return lengthOffset + int(h.Length) }

// LastOffset is the offset of the batch's last record once BaseOffset is assigned.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Codec is the batch's compression codec.
func (h Header) Codec() Codec { return Codec(h.Attributes & attrCompressionMask) }

// IsTransactional reports whether the batch belongs to a transaction.
func (h Header) IsTransactional() bool { return h.Attributes&attrTransactional != 0 }

// IsControl reports whether the batch holds a transaction marker.
func (h Header) IsControl() bool { return h.Attributes&attrControl != 0 }

// LogAppendTime reports whether the batch's timestamps are the broker's append time.
func (h Header) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// HasProducer reports whether the batch was written by an idempotent or transactional
// producer.
func (h Header) HasProducer() bool { return h.ProducerID >= 0 }

// LastSequence is the sequence number of the batch's last record, wrapping at MaxInt32
// as Kafka does.
func (h Header) LastSequence() int32 {
	return IncrementSequence(h.BaseSequence, h.LastOffsetDelta)
}

// IncrementSequence adds n to a producer sequence number, wrapping past MaxInt32 to 0.
func IncrementSequence(seq, n int32) int32 {
	if seq > (1<<31-1)-n {
		return n - ((1<<31 - 1) - seq) - 1
	}
	return seq + n
}

// CheckCRC verifies the CRC-32C of the batch at the start of b, which must hold the whole
// batch.
func CheckCRC(b []byte, h Header) error {
	if len(b) < h.Size() {
		return ErrShortBatch
	}
	if crc32.Checksum(b[crcStart:h.Size()], crc32c) != h.CRC {
		return ErrBadCRC
	}
	return nil
}

// SetBaseOffset stamps the broker-assigned base offset; the field is outside the CRC.
func SetBaseOffset(b []byte, offset int64) { binary.BigEndian.PutUint64(b[0:], uint64(offset)) }

// SetPartitionLeaderEpoch stamps the leader epoch; the field is outside the CRC.
func SetPartitionLeaderEpoch(b []byte, epoch int32) {
	binary.BigEndian.PutUint32(b[12:], uint32(epoch))
}

// SetLogAppendTime marks the batch as carrying log append time, sets its max timestamp
// to ts and recomputes the CRC. Consumers then read ts as every record's timestamp.
func SetLogAppendTime(b []byte, h Header, ts int64) {
	attrs := uint16(h.Attributes) | attrLogAppendTime
	binary.BigEndian.PutUint16(b[21:], attrs)
	binary.BigEndian.PutUint64(b[35:], uint64(ts))
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[crcStart:h.Size()], crc32c))
}
