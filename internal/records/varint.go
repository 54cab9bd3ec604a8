package records

import "encoding/binary"

// Kafka's record fields use zigzag varints: "varint" for int32 fields (at most 5 bytes)
// and "varlong" for int64 fields (at most 10 bytes), as in protobuf's sint32/sint64.
// Decoders return n == 0 for a short buffer, an over-long encoding or a value that does
// not fit, so callers need one check per field.

const (
	maxVarintLen  = 5
	maxVarlongLen = 10
)

// readVarint decodes a zigzag varint that must fit an int32.
func readVarint(b []byte) (v int32, n int) {
	var u uint32
	for i := 0; i < maxVarintLen && i < len(b); i++ {
		c := b[i]
		u |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == maxVarintLen-1 && c > 0x0f {
				return 0, 0 // bits beyond the 32nd
			}
			return int32(u>>1) ^ -int32(u&1), i + 1
		}
	}
	return 0, 0
}

// readVarlong decodes a zigzag varint that must fit an int64.
func readVarlong(b []byte) (v int64, n int) {
	var u uint64
	for i := 0; i < maxVarlongLen && i < len(b); i++ {
		c := b[i]
		u |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == maxVarlongLen-1 && c > 0x01 {
				return 0, 0 // bits beyond the 64th
			}
			return int64(u>>1) ^ -int64(u&1), i + 1
		}
	}
	return 0, 0
}

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func appendVarlong(dst []byte, v int64) []byte { return binary.AppendUvarint(dst, zigzag(v)) }

func appendVarint(dst []byte, v int32) []byte { return appendVarlong(dst, int64(v)) }

// sizeVarlong is the encoded size of v.
func sizeVarlong(v int64) int {
	u := zigzag(v)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}
