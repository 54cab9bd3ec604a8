package faults

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The proxy decodes what clients and brokers send it: every Produce request (to learn
// whether an answer will come) and the responses that name brokers. Whatever the bytes,
// decoding returns an error or a message, never a panic.

func requestFrame(req kmsg.Request, corr int32) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "fuzz"...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	return req.AppendTo(b)
}

func FuzzDecodeRequest(f *testing.F) {
	for _, req := range []kmsg.Request{kmsg.NewPtrProduceRequest(), kmsg.NewPtrFetchRequest(), kmsg.NewPtrMetadataRequest()} {
		for _, v := range []int16{0, 3, 9, req.MaxVersion(), req.MaxVersion() + 1} {
			req.SetVersion(v)
			f.Add(requestFrame(req, 1))
		}
	}
	f.Add([]byte{0, 0, 0, 9, 0, 0, 0, 1, 0xff, 0xff, 0x80})
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, _ = DecodeRequest(frame)
		key, _, _, err := requestHeader(frame)
		if err == nil {
			_ = expectsResponse(key, frame)
		}
	})
}

func FuzzRewriteAddresses(f *testing.F) {
	for _, resp := range []kmsg.Response{kmsg.NewPtrMetadataResponse(), kmsg.NewPtrFindCoordinatorResponse(),
		kmsg.NewPtrDescribeClusterResponse(), kmsg.NewPtrProduceResponse(), kmsg.NewPtrFetchResponse()} {
		for _, v := range []int16{0, 4, 10, 16, resp.MaxVersion()} {
			resp.SetVersion(v)
			f.Add(resp.Key(), v, encodeResponse(1, resp))
		}
	}
	p := &Proxy{advertise: func(int32, string, int32) (string, int32) { return "127.0.0.1", 9 }}
	f.Fuzz(func(t *testing.T, key, version int16, frame []byte) {
		_, _ = DecodeResponse(key, version, frame)
		_, _ = p.rewriteAddresses(frame, 1, key, version)
	})
}
