package records

import "fmt"

// The records section of a v2 batch (after the 61-byte header, decompressed as a whole
// when the batch's codec is not none) is recordCount records back to back:
//
//	length          varint   bytes of the record after this field
//	attributes      int8     unused, written as 0
//	timestampDelta  varlong  added to the batch's baseTimestamp
//	offsetDelta     varint   added to the batch's baseOffset
//	keyLength       varint   -1 for a null key
//	key             bytes
//	valueLength     varint   -1 for a null value
//	value           bytes
//	headerCount     varint
//	headers         headerCount × (keyLength varint >= 0, key, valueLength varint
//	                (-1 null), value)
//
// Varints are zigzag encoded (see varint.go).

// Record is one decoded record. Key and Value are nil when null.
type Record struct {
	OffsetDelta    int32
	TimestampDelta int64
	Key            []byte
	Value          []byte
	Headers        []RecordHeader
}

// RecordHeader is one record header. Value is nil when null.
type RecordHeader struct {
	Key   string
	Value []byte
}

// minRecordSize is the smallest encoded record: a one-byte length and six one-byte
// fields (attributes, timestamp delta, offset delta, null key, null value, no headers).
const minRecordSize = 7

// recordWalker reads the records section of a batch one record at a time, without
// allocating unless asked to decode headers.
type recordWalker struct {
	rest  []byte
	index int32
}

// walkMode says how much next decodes.
type walkMode uint8

const (
	// walkCheck checks framing, requires offsetDelta == index (as a producer must write
	// it) and leaves rec.Headers untouched.
	walkCheck walkMode = iota
	// walkDecode decodes headers too and accepts any offset delta (compaction leaves
	// gaps).
	walkDecode
)

// next reads the next record into rec. Key, Value and header values alias the walked
// buffer.
func (w *recordWalker) next(rec *Record, mode walkMode) error {
	length, n := readVarint(w.rest)
	if n == 0 {
		return w.invalid("bad length varint")
	}
	if length < minRecordSize-1 || int(length) > len(w.rest)-n {
		return w.invalid("length out of range")
	}
	body := w.rest[n : n+int(length)]
	w.rest = w.rest[n+int(length):]

	body = body[1:] // attributes: unused by every Kafka version so far, not checked
	if rec.TimestampDelta, n = readVarlong(body); n == 0 {
		return w.invalid("bad timestamp delta")
	}
	body = body[n:]
	if rec.OffsetDelta, n = readVarint(body); n == 0 {
		return w.invalid("bad offset delta")
	}
	body = body[n:]
	if mode == walkCheck && rec.OffsetDelta != w.index {
		return w.invalid("offset delta differs from the record's index")
	}
	var err error
	if rec.Key, body, err = w.readBytes(body, "key"); err != nil {
		return err
	}
	if rec.Value, body, err = w.readBytes(body, "value"); err != nil {
		return err
	}
	count, n := readVarint(body)
	// Each header takes at least two bytes, which also bounds the allocation below.
	if n == 0 || count < 0 || int(count) > (len(body)-n)/2 {
		return w.invalid("bad header count")
	}
	body = body[n:]
	if mode == walkDecode {
		rec.Headers = rec.Headers[:0]
		if cap(rec.Headers) < int(count) {
			rec.Headers = make([]RecordHeader, 0, count)
		}
	}
	for i := int32(0); i < count; i++ {
		var key, value []byte
		if key, body, err = w.readBytes(body, "header key"); err != nil {
			return err
		}
		if key == nil {
			return w.invalid("null header key")
		}
		if value, body, err = w.readBytes(body, "header value"); err != nil {
			return err
		}
		if mode == walkDecode {
			rec.Headers = append(rec.Headers, RecordHeader{Key: string(key), Value: value})
		}
	}
	if len(body) != 0 {
		return w.invalid("bytes left over inside the record")
	}
	w.index++
	return nil
}

// readBytes reads a varint length and that many bytes; length -1 is null.
func (w *recordWalker) readBytes(b []byte, field string) (v, rest []byte, err error) {
	l, n := readVarint(b)
	if n == 0 || l < -1 || int(l) > len(b)-n {
		return nil, nil, w.invalid("bad " + field + " length")
	}
	if l == -1 {
		return nil, b[n:], nil
	}
	end := n + int(l)
	return b[n:end:end], b[end:], nil
}

func (w *recordWalker) invalid(reason string) error {
	return fmt.Errorf("%w: record %d: %s", ErrInvalidRecord, w.index, reason)
}

// checkRecords checks that section holds exactly count records as a producer writes
// them (offset deltas 0, 1, 2, ...) and nothing after them. It allocates nothing unless
// it fails.
func checkRecords(section []byte, count int32, requireKeys bool) error {
	w := recordWalker{rest: section}
	var rec Record
	for i := int32(0); i < count; i++ {
		if err := w.next(&rec, walkCheck); err != nil {
			return err
		}
		if requireKeys && rec.Key == nil {
			return fmt.Errorf("%w: record %d", ErrMissingKey, i)
		}
	}
	return w.checkEnd(count)
}

// checkEnd fails if bytes follow the last record.
func (w *recordWalker) checkEnd(count int32) error {
	if len(w.rest) != 0 {
		return fmt.Errorf("%w: %d bytes after the last of %d records", ErrInvalidRecord, len(w.rest), count)
	}
	return nil
}
