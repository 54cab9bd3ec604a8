package records

import (
	"encoding/binary"
	"hash/crc32"
)

// Recompress returns the batch b, which Validate accepted with header h, with its records
// compressed with codec to at level (see compress for the levels), as Kafka's broker does
// for a topic whose compression.type names a codec. Everything but the compression bits,
// the length and the CRC is kept: base offset, leader epoch, base and max timestamps,
// producer id, epoch and base sequence, the transactional and timestamp-type attributes
// and every record byte for byte, so offsets, timestamps and idempotence are unchanged.
//
// On the way it applies rules to every record (it decompresses them anyway) and returns
// a *RejectedRecordsError as CheckRecords would; the batch is then not rebuilt. When h
// already has codec to, b is returned as it is (after the rules).
//
// The result is a new slice: b may alias a pooled request buffer.
func Recompress(b []byte, h Header, to Codec, level int, rules RecordRules) ([]byte, error) {
	if to == h.Codec() {
		return b, CheckRecords(b, h, rules)
	}
	section := b[HeaderSize:h.Size()]
	if c := h.Codec(); c != CodecNone {
		buf, err := decompress(c, section, MaxUncompressedLimit)
		if err != nil {
			return nil, err
		}
		defer releaseBuffer(buf)
		section = *buf
	}
	if err := checkRules(section, h, rules); err != nil {
		return nil, err
	}
	room := len(section) // guesses the compressed size; append grows it if needed
	if to != CodecNone {
		room = room/2 + 64
	}
	out := make([]byte, HeaderSize, HeaderSize+room)
	copy(out, b[:HeaderSize])
	out, err := compress(out, to, level, section)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	be.PutUint32(out[8:], uint32(len(out)-lengthOffset))
	be.PutUint16(out[21:], uint16(h.Attributes)&^attrCompressionMask|uint16(to))
	be.PutUint32(out[17:], crc32.Checksum(out[crcStart:], crc32c))
	return out, nil
}
