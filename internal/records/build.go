package records

import (
	"encoding/binary"
	"hash/crc32"
)

// ProducerFields are the producer id, epoch and base sequence written into a batch.
type ProducerFields struct {
	ID           int64
	Epoch        int16
	BaseSequence int32
}

// NoProducer marks a batch from a writer that is neither idempotent nor transactional.
var NoProducer = ProducerFields{ID: -1, Epoch: -1, BaseSequence: -1}

// BuildOptions are the header fields of a batch Build writes.
type BuildOptions struct {
	// BaseOffset and PartitionLeaderEpoch are outside the CRC; the log stamps both on
	// append, so zero is fine.
	BaseOffset           int64
	PartitionLeaderEpoch int32
	// BaseTimestamp is the timestamp records' TimestampDelta is relative to
	// (milliseconds since the epoch, CreateTime). MaxTimestamp is computed.
	BaseTimestamp int64
	// Producer is nil (NoProducer) for the broker's internal writers.
	Producer *ProducerFields
	// Transactional and Control set the attribute bits of the same names.
	Transactional bool
	Control       bool
}

// Build writes an uncompressed v2 batch holding recs with a correct CRC. Records get
// offset deltas 0, 1, 2, ... (their OffsetDelta field is ignored), so the result passes
// Validate (with AllowControl for control batches). It panics if recs is empty: an empty
// batch is never valid to append.
func Build(opts BuildOptions, recs []Record) []byte {
	if len(recs) == 0 {
		panic("records: Build needs at least one record")
	}
	size := HeaderSize
	maxDelta := recs[0].TimestampDelta
	for i := range recs {
		body := recordBodySize(int32(i), &recs[i])
		size += sizeVarlong(int64(body)) + body
		maxDelta = max(maxDelta, recs[i].TimestampDelta)
	}
	producer := NoProducer
	if opts.Producer != nil {
		producer = *opts.Producer
	}
	var attrs uint16
	if opts.Transactional {
		attrs |= attrTransactional
	}
	if opts.Control {
		attrs |= attrControl
	}

	b := make([]byte, HeaderSize, size)
	be := binary.BigEndian
	be.PutUint64(b[0:], uint64(opts.BaseOffset))
	be.PutUint32(b[8:], uint32(size-lengthOffset))
	be.PutUint32(b[12:], uint32(opts.PartitionLeaderEpoch))
	b[16] = 2
	be.PutUint16(b[21:], attrs)
	be.PutUint32(b[23:], uint32(len(recs)-1))
	be.PutUint64(b[27:], uint64(opts.BaseTimestamp))
	be.PutUint64(b[35:], uint64(opts.BaseTimestamp+maxDelta))
	be.PutUint64(b[43:], uint64(producer.ID))
	be.PutUint16(b[51:], uint16(producer.Epoch))
	be.PutUint32(b[53:], uint32(producer.BaseSequence))
	be.PutUint32(b[57:], uint32(len(recs)))
	for i := range recs {
		b = appendRecord(b, int32(i), &recs[i])
	}
	be.PutUint32(b[17:], crc32.Checksum(b[crcStart:], crc32c))
	return b
}

func recordBodySize(offsetDelta int32, r *Record) int {
	n := 1 + sizeVarlong(r.TimestampDelta) + sizeVarlong(int64(offsetDelta)) +
		sizeBytesField(r.Key) + sizeBytesField(r.Value) + sizeVarlong(int64(len(r.Headers)))
	for _, h := range r.Headers {
		n += sizeVarlong(int64(len(h.Key))) + len(h.Key) + sizeBytesField(h.Value)
	}
	return n
}

func sizeBytesField(v []byte) int {
	if v == nil {
		return 1
	}
	return sizeVarlong(int64(len(v))) + len(v)
}

func appendRecord(b []byte, offsetDelta int32, r *Record) []byte {
	b = appendVarlong(b, int64(recordBodySize(offsetDelta, r)))
	b = append(b, 0) // attributes
	b = appendVarlong(b, r.TimestampDelta)
	b = appendVarint(b, offsetDelta)
	b = appendBytesField(b, r.Key)
	b = appendBytesField(b, r.Value)
	b = appendVarint(b, int32(len(r.Headers)))
	for _, h := range r.Headers {
		b = appendVarint(b, int32(len(h.Key)))
		b = append(b, h.Key...)
		b = appendBytesField(b, h.Value)
	}
	return b
}

func appendBytesField(b, v []byte) []byte {
	if v == nil {
		return appendVarint(b, -1)
	}
	b = appendVarint(b, int32(len(v)))
	return append(b, v...)
}
