package records

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/snappy"
)

// Kafka batches use snappy in one of two shapes:
//
//   - a raw snappy block (librdkafka, franz-go, sarama, kafka-go);
//   - xerial framing (the Java client, through snappy-java's SnappyOutputStream):
//
//     magic            8 bytes  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//     version          int32    1
//     compatVersion    int32    1
//     blocks, repeated until the end:
//     length         int32    bytes of the block
//     block          raw snappy block
//
// Each block's decoded length is read from its preamble before decoding, so the size
// bound is checked before any memory is committed.

var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderLen = 16

func unsnappy(dst, src []byte, limit int) ([]byte, error) {
	if !bytes.HasPrefix(src, xerialMagic) {
		return appendSnappyBlock(dst, src, limit)
	}
	if len(src) < xerialHeaderLen {
		return dst, fmt.Errorf("%w: snappy: short xerial header", ErrCorruptCompressed)
	}
	rest := src[xerialHeaderLen:]
	for len(rest) > 0 {
		if len(rest) < 4 {
			return dst, fmt.Errorf("%w: snappy: torn xerial block length", ErrCorruptCompressed)
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return dst, fmt.Errorf("%w: snappy: xerial block runs past the end", ErrCorruptCompressed)
		}
		var err error
		if dst, err = appendSnappyBlock(dst, rest[:n], limit); err != nil {
			return dst, err
		}
		rest = rest[n:]
	}
	return dst, nil
}

// appendSnappyBlock decodes one raw snappy block onto the end of dst.
func appendSnappyBlock(dst, block []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, fmt.Errorf("%w: snappy: %v", ErrCorruptCompressed, err)
	}
	if n > limit-len(dst) {
		return dst, fmt.Errorf("%w: snappy output passed %d bytes", ErrUncompressedTooLarge, limit)
	}
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]byte, start, min(max(start+n, 2*cap(dst)), limit))
		copy(grown, dst)
		dst = grown
	}
	if _, err := snappy.Decode(dst[start:start+n], block); err != nil {
		return dst[:start], fmt.Errorf("%w: snappy: %v", ErrCorruptCompressed, err)
	}
	return dst[:start+n], nil
}
