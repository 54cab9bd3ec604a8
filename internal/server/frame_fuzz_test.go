package server

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzDecodeRequest feeds arbitrary request frames (header and body) through the same
// decoding the connection reader uses. Decoding must return an error, never panic.
func FuzzDecodeRequest(f *testing.F) {
	for _, req := range []kmsg.Request{
		kmsg.NewPtrApiVersionsRequest(), kmsg.NewPtrMetadataRequest(), kmsg.NewPtrProduceRequest(),
		kmsg.NewPtrFetchRequest(), kmsg.NewPtrJoinGroupRequest(), kmsg.NewPtrCreateTopicsRequest(),
	} {
		for _, v := range []int16{0, 3, req.MaxVersion()} {
			req.SetVersion(v)
			f.Add(encodeRequest(req, 7, "fuzz"))
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, frame []byte) {
		h, body, err := parseHeaderPrefix(frame)
		if err != nil {
			return
		}
		if kmsg.RequestForKey(h.key) == nil || h.version < 0 || h.version > kmsg.RequestForKey(h.key).MaxVersion() {
			return
		}
		_, _ = decodeBody(h, body)
	})
}

// encodeRequest frames req's header and body as a client would, without the size.
func encodeRequest(req kmsg.Request, correlationID int32, clientID string) []byte {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(correlationID))
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	b = append(b, clientID...)
	if req.IsFlexible() {
		b = append(b, 0)
	}
	return req.AppendTo(b)
}

func TestDecodeRoundTrip(t *testing.T) {
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	topic := "orders"
	req.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
	h, body, err := parseHeaderPrefix(encodeRequest(req, 42, "client-1"))
	if err != nil {
		t.Fatal(err)
	}
	if h.key != int16(kmsg.Metadata) || h.version != 12 || h.correlationID != 42 || h.clientID != "client-1" {
		t.Fatalf("header %+v", h)
	}
	got, err := decodeBody(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if ts := got.(*kmsg.MetadataRequest).Topics; len(ts) != 1 || *ts[0].Topic != "orders" {
		t.Fatalf("decoded topics %v", ts)
	}
}
