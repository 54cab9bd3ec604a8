package records

import "fmt"

// iterateLimit bounds the decompressed records Iterate accepts. It is
// MaxUncompressedLimit; fuzz tests lower it to keep each input cheap.
var iterateLimit = MaxUncompressedLimit

// Iterate decodes the records of the batch at the start of batch (bytes after it are
// ignored), decompressing them if needed, and calls fn for each in order. It stops at
// the first error, from decoding or from fn, and returns it.
//
// Iterate checks the CRC and every record's framing, but unlike Validate accepts any
// offset deltas (compaction leaves gaps) and a batch of zero records (compaction may
// keep an empty batch to preserve a producer's last sequence).
//
// Ownership: the Record passed to fn, its Key, Value and Headers alias batch or a pooled
// buffer and are valid only until fn returns; copy what must outlive the call.
func Iterate(batch []byte, fn func(Record) error) error {
	h, err := ParseHeader(batch)
	if err != nil {
		return err
	}
	if err := CheckCRC(batch, h); err != nil {
		return err
	}
	if h.NumRecords < 0 {
		return fmt.Errorf("%w: record count %d", ErrInvalidRecord, h.NumRecords)
	}
	section := batch[HeaderSize:h.Size()]
	if c := h.Codec(); c != CodecNone {
		if c > CodecZstd {
			return fmt.Errorf("%w: codec id %d", ErrBadCompression, c)
		}
		if int64(h.NumRecords)*minRecordSize > int64(iterateLimit) {
			return fmt.Errorf("%w: %d records cannot fit %d bytes", ErrUncompressedTooLarge, h.NumRecords, iterateLimit)
		}
		buf, err := decompress(c, section, iterateLimit)
		if err != nil {
			return err
		}
		defer releaseBuffer(buf)
		section = *buf
	}
	w := recordWalker{rest: section}
	var rec Record
	for i := int32(0); i < h.NumRecords; i++ {
		if err := w.next(&rec, walkDecode); err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return w.checkEnd(h.NumRecords)
}
