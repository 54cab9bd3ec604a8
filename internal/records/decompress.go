package records

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Decompression runs on every compressed produce, so decoders and output buffers come
// from pools, and every codec writes through readBounded or an explicit size check so a
// small batch cannot expand into gigabytes (a decompression bomb).

// MaxUncompressedLimit is the hard ceiling on a batch's decompressed records section.
// Iterate uses it; Validate never allows more, so a batch Validate accepted always
// iterates.
const MaxUncompressedLimit = 1 << 30

// maxPooledBuffer keeps rare huge buffers out of the pool so one large batch does not
// pin its memory for the life of the process.
const maxPooledBuffer = 4 << 20

var bufferPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 64<<10)
	return &b
}}

// decompress decodes the records section src of a batch compressed with c into a pooled
// buffer. The caller must hand the buffer back with releaseBuffer when done.
func decompress(c Codec, src []byte, limit int) (*[]byte, error) {
	buf := bufferPool.Get().(*[]byte)
	out, err := decompressInto((*buf)[:0], c, src, limit)
	*buf = out
	if err != nil {
		releaseBuffer(buf)
		return nil, err
	}
	return buf, nil
}

func releaseBuffer(buf *[]byte) {
	if cap(*buf) <= maxPooledBuffer {
		*buf = (*buf)[:0]
		bufferPool.Put(buf)
	}
}

func decompressInto(dst []byte, c Codec, src []byte, limit int) ([]byte, error) {
	switch c {
	case CodecGzip:
		return gunzip(dst, src, limit)
	case CodecSnappy:
		return unsnappy(dst, src, limit)
	case CodecLZ4:
		return unlz4(dst, src, limit)
	case CodecZstd:
		return unzstd(dst, src, limit)
	}
	return dst, ErrBadCompression
}

type gzipDecoder struct {
	src bytes.Reader
	zr  gzip.Reader
}

var gzipPool = sync.Pool{New: func() any { return new(gzipDecoder) }}

// putGzip pools d without the batch it last read, so the pool pins no batch memory.
func putGzip(d *gzipDecoder) {
	d.src.Reset(nil)
	gzipPool.Put(d)
}

func gunzip(dst, src []byte, limit int) ([]byte, error) {
	d := gzipPool.Get().(*gzipDecoder)
	defer putGzip(d)
	d.src.Reset(src)
	if err := d.zr.Reset(&d.src); err != nil {
		return dst, corruptCompressed("gzip", err)
	}
	return readBounded(dst, &d.zr, len(src), limit, "gzip")
}

type lz4Decoder struct {
	src bytes.Reader
	zr  *lz4.Reader
}

var lz4Pool = sync.Pool{New: func() any { return &lz4Decoder{zr: lz4.NewReader(nil)} }}

func putLZ4(d *lz4Decoder) {
	d.src.Reset(nil)
	lz4Pool.Put(d)
}

func unlz4(dst, src []byte, limit int) ([]byte, error) {
	d := lz4Pool.Get().(*lz4Decoder)
	defer putLZ4(d)
	d.src.Reset(src)
	d.zr.Reset(&d.src)
	return readBounded(dst, d.zr, len(src), limit, "lz4")
}

type zstdDecoder struct {
	src bytes.Reader
	zr  *zstd.Decoder
}

// zstdMaxWindow bounds the history a frame may make the decoder keep. The zstd format
// asks decoders to support at least 8 MiB; Kafka clients' levels stay well below that.
const zstdMaxWindow = 64 << 20

var zstdPool = sync.Pool{New: func() any {
	// Concurrency 1 makes the streaming decoder synchronous: no goroutines, so pooled
	// decoders can be dropped by the GC without Close.
	zr, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(zstdMaxWindow))
	if err != nil {
		panic("records: zstd decoder options rejected: " + err.Error())
	}
	return &zstdDecoder{zr: zr}
}}

func unzstd(dst, src []byte, limit int) ([]byte, error) {
	d := zstdPool.Get().(*zstdDecoder)
	defer putZstd(d)
	d.src.Reset(src)
	if err := d.zr.Reset(&d.src); err != nil {
		return dst, corruptCompressed("zstd", err)
	}
	return readBounded(dst, d.zr, len(src), limit, "zstd")
}

func putZstd(d *zstdDecoder) {
	d.src.Reset(nil)
	d.zr.Reset(nil) // drops the decoder's reference to the reader
	zstdPool.Put(d)
}

// readBounded appends everything r produces to dst, failing with
// ErrUncompressedTooLarge as soon as more than limit bytes come out. compressedLen sizes
// the first allocation.
func readBounded(dst []byte, r io.Reader, compressedLen, limit int, codec string) ([]byte, error) {
	if want := min(4*compressedLen, limit+1); cap(dst) < want {
		dst = make([]byte, 0, want)
	}
	for {
		if len(dst) == cap(dst) {
			grown := make([]byte, len(dst), min(2*cap(dst)+4096, limit+1))
			copy(grown, dst)
			dst = grown
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst, fmt.Errorf("%w: %s output passed %d bytes", ErrUncompressedTooLarge, codec, limit)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, corruptCompressed(codec, err)
		}
	}
}

func corruptCompressed(codec string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrCorruptCompressed, codec, err)
}
