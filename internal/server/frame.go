package server

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var errMalformedHeader = errors.New("malformed request header")

// minHeaderSize is the smallest request header: key, version, correlation id and a null
// client id.
const minHeaderSize = 10

// header is the request header (v1, or v2 with tagged fields on flexible versions). The
// client id is a non-compact nullable string in both.
type header struct {
	key, version  int16
	correlationID int32
	clientID      string
}

// parseHeaderPrefix reads key, version, correlation id and client id; the caller decides
// from the key and version whether header tags follow.
func parseHeaderPrefix(b []byte) (header, []byte, error) {
	if len(b) < minHeaderSize {
		return header{}, nil, errMalformedHeader
	}
	h := header{
		key:           int16(binary.BigEndian.Uint16(b[0:])),
		version:       int16(binary.BigEndian.Uint16(b[2:])),
		correlationID: int32(binary.BigEndian.Uint32(b[4:])),
	}
	n := int16(binary.BigEndian.Uint16(b[8:]))
	b = b[10:]
	if n > 0 {
		if int(n) > len(b) {
			return h, nil, errMalformedHeader
		}
		h.clientID = string(b[:n])
		b = b[n:]
	} else if n < -1 {
		return h, nil, errMalformedHeader
	}
	return h, b, nil
}

// skipTags skips a tagged-fields section (count, then tag/size/bytes per field).
func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errMalformedHeader
	}
	b = b[n:]
	for i := uint64(0); i < count; i++ {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, errMalformedHeader
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errMalformedHeader
		}
		b = b[n+int(size):]
	}
	return b, nil
}

// decodeBody decodes the request body for h, which the handler supports. The message may
// alias body: the caller must not reuse that buffer.
func decodeBody(h header, body []byte) (kmsg.Request, error) {
	req := kmsg.RequestForKey(h.key)
	if req == nil {
		return nil, fmt.Errorf("unknown api key %d", h.key)
	}
	req.SetVersion(h.version)
	if req.IsFlexible() {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, err
		}
	}
	var err error
	if u, ok := req.(kmsg.UnsafeReadFrom); ok {
		err = u.UnsafeReadFrom(body)
	} else {
		err = req.ReadFrom(body)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding %s v%d: %w", kmsg.NameForKey(h.key), h.version, err)
	}
	return req, nil
}

// appendResponse frames resp: size, correlation id, header tags for flexible responses
// (ApiVersions always uses header v0), body.
func appendResponse(dst []byte, correlationID int32, resp kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(correlationID))
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		dst = append(dst, 0)
	}
	dst = resp.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
