package log

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/vfs"
)

const (
	lookupWindow  = 8 << 10 // enough for the headers of an index interval of small batches
	recoverWindow = 1 << 20 // recovery reads whole batches sequentially
	crcStart      = 21      // the CRC covers a batch from the attributes on
)

// batchReader walks batch headers in a segment file through a read window, so that
// scanning many small batches costs few ReadAt calls.
type batchReader struct {
	f     vfs.File
	limit int64 // bytes past limit are never read (the published or file size)
	buf   []byte
	start int64 // file position of buf[0]
	n     int   // valid bytes in buf
}

func newBatchReader(f vfs.File, limit int64, window int) *batchReader {
	return &batchReader{f: f, limit: limit, buf: make([]byte, window)}
}

// window returns bytes at pos, at most up to end, refilling from the file if pos is not
// buffered. It returns at least one byte when pos < min(end, limit).
func (r *batchReader) window(pos, end int64) ([]byte, error) {
	end = min(end, r.limit)
	if pos < r.start || pos >= r.start+int64(r.n) {
		want := min(int64(len(r.buf)), r.limit-pos)
		if want <= 0 {
			return nil, io.ErrUnexpectedEOF
		}
		n, err := r.f.ReadAt(r.buf[:want], pos)
		if int64(n) < want {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("log: read %s at %d: %w", r.f.Name(), pos, err)
		}
		r.start, r.n = pos, n
	}
	return r.buf[pos-r.start : min(int64(r.n), end-r.start)], nil
}

// header parses the batch header at pos. Damage is reported as ErrTornBatch (the header
// or the batch runs past limit) or ErrBadBatchHeader; I/O errors as themselves.
func (r *batchReader) header(pos int64) (records.Header, error) {
	if pos+records.HeaderSize > r.limit {
		return records.Header{}, ErrTornBatch
	}
	b, err := r.window(pos, pos+records.HeaderSize)
	if err != nil {
		return records.Header{}, err
	}
	if len(b) < records.HeaderSize { // straddles the window: re-read from pos
		r.n = 0
		if b, err = r.window(pos, pos+records.HeaderSize); err != nil {
			return records.Header{}, err
		}
	}
	h, err := records.ParseHeader(b)
	if err != nil {
		return h, fmt.Errorf("%w: %v", ErrBadBatchHeader, err)
	}
	if pos+int64(h.Size()) > r.limit {
		return h, ErrTornBatch
	}
	return h, nil
}

// checkCRC verifies the CRC of the batch at pos with header h, streaming through the
// window so that a large batch needs no buffer of its own.
func (r *batchReader) checkCRC(pos int64, h records.Header) error {
	end := pos + int64(h.Size())
	var crc uint32
	for p := pos + crcStart; p < end; {
		b, err := r.window(p, end)
		if err != nil {
			return err
		}
		crc = crc32.Update(crc, castagnoli, b)
		p += int64(len(b))
	}
	if crc != h.CRC {
		return ErrBatchChecksum
	}
	return nil
}
