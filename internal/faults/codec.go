package faults

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Frame bodies as the proxy sees them (the 4-byte size prefix removed):
//
//	request:  api key int16 | api version int16 | correlation id int32 | client id
//	          nullable string | tagged fields (flexible versions) | body
//	response: correlation id int32 | tagged fields (flexible versions but ApiVersions) |
//	          body
//
// Decoding goes through kmsg; the proxy never encodes a frame by hand.

// maxFrame bounds a frame the proxy will buffer.
const maxFrame = 1 << 30

var errShortFrame = errors.New("faults: frame too short for its header")

// requestHeader reads a request's key, version and correlation id.
func requestHeader(frame []byte) (key, version int16, corr int32, err error) {
	if len(frame) < 8 {
		return 0, 0, 0, errShortFrame
	}
	return int16(binary.BigEndian.Uint16(frame)), int16(binary.BigEndian.Uint16(frame[2:])),
		int32(binary.BigEndian.Uint32(frame[4:])), nil
}

// responseCorrelation reads a response's correlation id.
func responseCorrelation(frame []byte) (int32, error) {
	if len(frame) < 4 {
		return 0, errShortFrame
	}
	return int32(binary.BigEndian.Uint32(frame)), nil
}

// DecodeRequest decodes a request frame body (Event.Frame of a request) with kmsg.
func DecodeRequest(frame []byte) (kmsg.Request, error) {
	key, version, _, err := requestHeader(frame)
	if err != nil {
		return nil, err
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return nil, fmt.Errorf("faults: unknown api key %d", key)
	}
	req.SetVersion(version)
	r := kbin.Reader{Src: frame[8:]}
	r.NullableString() // client id
	if req.IsFlexible() {
		kmsg.SkipTags(&r)
	}
	if err := r.Complete(); err != nil {
		return nil, fmt.Errorf("faults: decoding %s request header: %w", kmsg.NameForKey(key), err)
	}
	if err := req.ReadFrom(r.Src); err != nil {
		return nil, fmt.Errorf("faults: decoding %s request: %w", kmsg.NameForKey(key), err)
	}
	return req, nil
}

// DecodeResponse decodes a response frame body (Event.Frame of a response) to a request
// of key at version with kmsg.
func DecodeResponse(key, version int16, frame []byte) (kmsg.Response, error) {
	if len(frame) < 4 {
		return nil, errShortFrame
	}
	resp := kmsg.ResponseForKey(key)
	if resp == nil {
		return nil, fmt.Errorf("faults: unknown api key %d", key)
	}
	resp.SetVersion(version)
	body := frame[4:]
	if flexibleResponseHeader(resp) {
		r := kbin.Reader{Src: body}
		kmsg.SkipTags(&r)
		if err := r.Complete(); err != nil {
			return nil, fmt.Errorf("faults: decoding %s response header: %w", kmsg.NameForKey(key), err)
		}
		body = r.Src
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("faults: decoding %s response: %w", kmsg.NameForKey(key), err)
	}
	return resp, nil
}

// encodeResponse is DecodeResponse's inverse: correlation id, header tags, body.
func encodeResponse(corr int32, resp kmsg.Response) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(corr))
	if flexibleResponseHeader(resp) {
		out = append(out, 0) // no tagged fields
	}
	return resp.AppendTo(out)
}

// flexibleResponseHeader: flexible responses carry header tags, except ApiVersions, whose
// response header stays v0 so that a client can read it whatever version it asked for.
func flexibleResponseHeader(resp kmsg.Response) bool {
	return resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions)
}

// expectsResponse reports whether the broker answers this request: everything but a
// Produce with acks=0.
func expectsResponse(key int16, frame []byte) bool {
	if key != int16(kmsg.Produce) {
		return true
	}
	req, err := DecodeRequest(frame)
	if err != nil {
		return true // the broker will answer with an error, or cut the connection
	}
	return req.(*kmsg.ProduceRequest).Acks != 0
}
