package records

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compression is the broker's side of compression.type: it writes records sections the
// way Apache Kafka's broker does, so that every client that reads Kafka's batches reads
// ours. Encoders are pooled per level; a produce to a recompressing topic runs one.

// compress appends src, a records section, compressed with c at level, to dst. level
// follows the topic config of the codec (compression.gzip.level: 1-9 or -1 for the
// default; compression.lz4.level: 1-17; compression.zstd.level: -131072 to 22); snappy
// has no levels.
func compress(dst []byte, c Codec, level int, src []byte) ([]byte, error) {
	switch c {
	case CodecNone:
		return append(dst, src...), nil
	case CodecGzip:
		return compressGzip(dst, level, src)
	case CodecSnappy:
		return appendXerial(dst, src), nil
	case CodecLZ4:
		return compressLZ4(dst, level, src)
	case CodecZstd:
		return compressZstd(dst, level, src)
	}
	return dst, fmt.Errorf("%w: codec id %d", ErrBadCompression, c)
}

// gzipWriters pools writers by level (index level+1, so -1 is 0); levels outside
// Kafka's range use the default.
var gzipWriters [11]sync.Pool

func compressGzip(dst []byte, level int, src []byte) ([]byte, error) {
	if level < gzip.BestSpeed || level > gzip.BestCompression {
		level = gzip.DefaultCompression
	}
	out := bytes.NewBuffer(dst)
	pool := &gzipWriters[level+1]
	w, _ := pool.Get().(*gzip.Writer)
	if w == nil {
		var err error
		if w, err = gzip.NewWriterLevel(out, level); err != nil {
			return dst, err
		}
	} else {
		w.Reset(out)
	}
	defer func() { w.Reset(nil); pool.Put(w) }()
	if _, err := w.Write(src); err != nil {
		return dst, err
	}
	if err := w.Close(); err != nil {
		return dst, err
	}
	return out.Bytes(), nil
}

// xerialBlockSize is snappy-java's default block size, which Kafka's broker writes with.
const xerialBlockSize = 32 << 10

// appendXerial frames src as Kafka's broker does (snappy-java's SnappyOutputStream, see
// snappy.go); every client decodes this framing, while raw blocks are a client habit.
func appendXerial(dst, src []byte) []byte {
	dst = append(dst, xerialMagic...)
	dst = binary.BigEndian.AppendUint32(dst, 1) // version
	dst = binary.BigEndian.AppendUint32(dst, 1) // compatible version
	for len(src) > 0 {
		n := min(len(src), xerialBlockSize)
		lenAt := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		start := len(dst)
		dst = append(dst, make([]byte, snappy.MaxEncodedLen(n))...)
		block := snappy.Encode(dst[start:], src[:n])
		dst = dst[:start+len(block)]
		binary.BigEndian.PutUint32(dst[lenAt:], uint32(len(block)))
		src = src[n:]
	}
	return dst
}

// lz4Writers pools writers by pierrec level index (0 fast, 1-9 for Level1-Level9).
var lz4Writers [10]sync.Pool

// lz4Level maps Kafka's compression.lz4.level (1 fast, 2-17 LZ4HC levels) onto the
// library's levels, which stop at 9.
func lz4Level(level int) (index int, l lz4.CompressionLevel) {
	levels := [...]lz4.CompressionLevel{lz4.Fast, lz4.Level1, lz4.Level2, lz4.Level3, lz4.Level4,
		lz4.Level5, lz4.Level6, lz4.Level7, lz4.Level8, lz4.Level9}
	index = min(max(level, 0), 9)
	if level <= 1 {
		index = 0
	}
	return index, levels[index]
}

func compressLZ4(dst []byte, level int, src []byte) ([]byte, error) {
	index, l := lz4Level(level)
	out := bytes.NewBuffer(dst)
	pool := &lz4Writers[index]
	w, _ := pool.Get().(*lz4.Writer)
	if w == nil {
		w = lz4.NewWriter(out)
		// 64 KiB blocks, as Kafka's KafkaLZ4BlockOutputStream writes them.
		if err := w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.CompressionLevelOption(l)); err != nil {
			return dst, err
		}
	} else {
		w.Reset(out)
	}
	defer func() { w.Reset(nil); pool.Put(w) }()
	if _, err := w.Write(src); err != nil {
		return dst, err
	}
	if err := w.Close(); err != nil {
		return dst, err
	}
	return out.Bytes(), nil
}

// zstdEncoders holds one encoder per library level: EncodeAll is safe for concurrent
// use, and the library has only four levels, so this map stays tiny.
var zstdEncoders sync.Map // zstd.EncoderLevel → *zstd.Encoder

func compressZstd(dst []byte, level int, src []byte) ([]byte, error) {
	l := zstd.EncoderLevelFromZstd(level)
	enc, ok := zstdEncoders.Load(l)
	if !ok {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(l))
		if err != nil {
			return dst, err
		}
		enc, _ = zstdEncoders.LoadOrStore(l, e)
	}
	return enc.(*zstd.Encoder).EncodeAll(src, dst), nil
}
