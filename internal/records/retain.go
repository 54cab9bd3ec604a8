package records

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Retain rewrites the batch at the start of batch (bytes after it are ignored) keeping
// only the records for which keep returns true, as Kafka's log cleaner does:
//
//   - every kept record keeps its bytes, so its offset delta and timestamp delta (and
//     therefore its offset and timestamp) are unchanged; the result may have gaps;
//   - the header keeps the base offset, lastOffsetDelta (so the offset after the batch is
//     unchanged), partition leader epoch, base timestamp, producer id, epoch and base
//     sequence, and the transactional, control and timestamp-type attributes;
//   - the records are written uncompressed (Kafka also may change the codec when it
//     rewrites), so the compression bits are cleared;
//   - for CreateTime batches the max timestamp becomes the largest kept one; with no
//     record kept it stays, as in Kafka's empty batches;
//   - the CRC is recomputed.
//
// When keep accepts every record, out is batch itself (trimmed to the batch, still in
// its original codec) and changed is false; otherwise out is a new slice. With no record
// kept, out is a header-only batch of zero records: the caller decides whether to keep
// it (Kafka keeps a producer's last batch so that its sequence survives).
//
// The Record passed to keep aliases batch or a pooled buffer, as in Iterate; it is
// valid only during the call.
func Retain(batch []byte, keep func(Record) bool) (out []byte, kept int32, changed bool, err error) {
	h, err := ParseHeader(batch)
	if err != nil {
		return nil, 0, false, err
	}
	if err := CheckCRC(batch, h); err != nil {
		return nil, 0, false, err
	}
	if h.NumRecords < 0 {
		return nil, 0, false, fmt.Errorf("%w: record count %d", ErrInvalidRecord, h.NumRecords)
	}
	section := batch[HeaderSize:h.Size()]
	if c := h.Codec(); c != CodecNone {
		if c > CodecZstd {
			return nil, 0, false, fmt.Errorf("%w: codec id %d", ErrBadCompression, c)
		}
		if int64(h.NumRecords)*minRecordSize > int64(iterateLimit) {
			return nil, 0, false, fmt.Errorf("%w: %d records cannot fit %d bytes", ErrUncompressedTooLarge, h.NumRecords, iterateLimit)
		}
		buf, err := decompress(c, section, iterateLimit)
		if err != nil {
			return nil, 0, false, err
		}
		defer releaseBuffer(buf)
		section = *buf
	}

	var body []byte // kept records, allocated at the first dropped one
	w := recordWalker{rest: section}
	var rec Record
	var maxDelta int64
	for i := int32(0); i < h.NumRecords; i++ {
		before := w.rest
		if err := w.next(&rec, walkDecode); err != nil {
			return nil, 0, false, err
		}
		raw := before[:len(before)-len(w.rest)]
		if !keep(rec) {
			if body == nil {
				body = make([]byte, 0, len(section))
				body = append(body, section[:len(section)-len(before)]...) // the kept ones so far
			}
			continue
		}
		if body != nil {
			body = append(body, raw...)
		}
		if kept == 0 || rec.TimestampDelta > maxDelta {
			maxDelta = rec.TimestampDelta
		}
		kept++
	}
	if err := w.checkEnd(h.NumRecords); err != nil {
		return nil, 0, false, err
	}
	if body == nil {
		return batch[:h.Size():h.Size()], kept, false, nil
	}
	return rebuildHeader(batch[:HeaderSize], h, body, kept, maxDelta), kept, true, nil
}

// rebuildHeader returns a batch with header (the original's first HeaderSize bytes)
// adjusted for body, the kept records written uncompressed.
func rebuildHeader(header []byte, h Header, body []byte, kept int32, maxDelta int64) []byte {
	out := make([]byte, HeaderSize+len(body))
	copy(out, header)
	copy(out[HeaderSize:], body)
	be := binary.BigEndian
	be.PutUint32(out[8:], uint32(len(out)-lengthOffset))
	be.PutUint16(out[21:], uint16(h.Attributes)&^attrCompressionMask)
	if kept > 0 && !h.LogAppendTime() {
		be.PutUint64(out[35:], uint64(h.BaseTimestamp+maxDelta))
	}
	be.PutUint32(out[57:], uint32(kept))
	be.PutUint32(out[17:], crc32.Checksum(out[crcStart:], crc32c))
	return out
}
