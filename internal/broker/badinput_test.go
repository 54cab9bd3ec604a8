package broker_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
)

// rawConn is a client speaking the wire protocol by hand, to send what no client library
// would.
type rawConn struct {
	t *testing.T
	net.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t: t, Conn: c}
}

// send writes a frame: key, version, correlation id 1, client id "raw", then body.
func (c *rawConn) send(key, version int16, body []byte) {
	var frame []byte
	frame = binary.BigEndian.AppendUint16(frame, uint16(key))
	frame = binary.BigEndian.AppendUint16(frame, uint16(version))
	frame = binary.BigEndian.AppendUint32(frame, 1)
	frame = binary.BigEndian.AppendUint16(frame, 3)
	frame = append(frame, "raw"...)
	frame = append(frame, body...)
	c.sendFrame(frame)
}

func (c *rawConn) sendFrame(frame []byte) {
	size := binary.BigEndian.AppendUint32(nil, uint32(len(frame)))
	if _, err := c.Write(append(size, frame...)); err != nil {
		c.t.Fatal(err)
	}
}

// readFrame returns the next response frame, or an error when the broker closed the
// connection.
func (c *rawConn) readFrame() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	frame := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(c, frame)
	return frame, err
}

func (c *rawConn) expectClosed() {
	c.t.Helper()
	if frame, err := c.readFrame(); err == nil {
		c.t.Fatalf("broker answered (%d bytes) instead of closing the connection", len(frame))
	} else if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		c.t.Fatalf("broker neither answered nor closed the connection: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestUnsupportedApiVersionsGetsV0Answer(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr())
	c.send(int16(kmsg.ApiVersions), 99, []byte{0xde, 0xad}) // a body we cannot parse
	frame, err := c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(frame[4:]); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error code %d, want UNSUPPORTED_VERSION", resp.ErrorCode)
	}
	found := false
	for _, k := range resp.ApiKeys {
		if k.ApiKey == int16(kmsg.ApiVersions) {
			found = k.MaxVersion >= 3
		}
	}
	if !found {
		t.Fatalf("ApiVersions range missing from %v", resp.ApiKeys)
	}
}

func TestBadFramesCloseTheConnectionOnly(t *testing.T) {
	b := testbroker.Start(t)
	cases := map[string]func(c *rawConn){
		"unknown api key":     func(c *rawConn) { c.send(9999, 0, nil) },
		"unsupported version": func(c *rawConn) { c.send(int16(kmsg.Produce), 1, nil) },
		"truncated body":      func(c *rawConn) { c.send(int16(kmsg.Metadata), 12, []byte{5, 1}) },
		"short header":        func(c *rawConn) { c.sendFrame([]byte{0, 3}) },
		"oversized request": func(c *rawConn) {
			_, _ = c.Write(binary.BigEndian.AppendUint32(nil, 200<<20))
		},
		"negative size": func(c *rawConn) { _, _ = c.Write([]byte{0xff, 0xff, 0xff, 0xf0}) },
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, b.Addr())
			send(c)
			c.expectClosed()
		})
	}
	// The broker still serves everyone else.
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("broker unusable after bad frames: %v", err)
	}
}

func TestProduceRejectsBadBatches(t *testing.T) {
	b := testbroker.Start(t)
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	createTopic(ctx, t, cl, "bad-batches", 1, map[string]*string{"max.message.bytes": kmsg.StringPtr("2000")})

	good := records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli()},
		[]records.Record{{Value: []byte("hello")}})
	badCRC := append([]byte(nil), good...)
	badCRC[len(badCRC)-1] ^= 0xff
	big := records.Build(records.BuildOptions{BaseTimestamp: time.Now().UnixMilli()},
		[]records.Record{{Value: make([]byte, 3000)}})
	cases := []struct {
		name      string
		topic     string
		partition int32
		batch     []byte
		want      int16
	}{
		{"valid", "bad-batches", 0, good, 0},
		{"bad crc", "bad-batches", 0, badCRC, kerr.CorruptMessage.Code},
		{"too large", "bad-batches", 0, big, kerr.MessageTooLarge.Code},
		{"garbage", "bad-batches", 0, []byte("not a batch at all"), kerr.InvalidRecord.Code},
		{"unknown topic", "no-such-topic", 0, good, kerr.UnknownTopicOrPartition.Code},
		{"unknown partition", "bad-batches", 7, good, kerr.UnknownTopicOrPartition.Code},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := kmsg.NewPtrProduceRequest()
			req.Acks, req.TimeoutMillis = -1, 5000
			rt := kmsg.NewProduceRequestTopic()
			rt.Topic = tc.topic
			rp := kmsg.NewProduceRequestTopicPartition()
			rp.Partition, rp.Records = tc.partition, append([]byte(nil), tc.batch...)
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			got := resp.Topics[0].Partitions[0].ErrorCode
			if got != tc.want {
				t.Fatalf("error code %v, want %v", kerr.ErrorForCode(got), kerr.ErrorForCode(tc.want))
			}
		})
	}
	// Nothing but the valid batch was stored.
	offsets := listEnd(ctx, t, cl, "bad-batches")
	if offsets != 1 {
		t.Fatalf("log end offset %d after one valid batch, want 1", offsets)
	}
}

func TestCreateTopicsRejectsBadInput(t *testing.T) {
	b := testbroker.Start(t)
	cl := newClient(t, b.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cases := []struct {
		name    string
		topic   string
		configs map[string]*string
		want    int16
	}{
		{"invalid name", "bad/name", nil, kerr.InvalidTopicException.Code},
		{"dot name", "..", nil, kerr.InvalidTopicException.Code},
		{"invalid config value", "cfg-value", map[string]*string{"retention.ms": kmsg.StringPtr("soon")}, kerr.InvalidConfig.Code},
		{"unknown config", "cfg-name", map[string]*string{"retention.millis": kmsg.StringPtr("1")}, kerr.InvalidConfig.Code},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tryCreateTopic(ctx, t, cl, tc.topic, 1, tc.configs); got != tc.want {
				t.Fatalf("error %v, want %v", kerr.ErrorForCode(got), kerr.ErrorForCode(tc.want))
			}
		})
	}
}

func createTopic(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	if code := tryCreateTopic(ctx, t, cl, topic, partitions, configs); code != 0 {
		t.Fatalf("creating %s: %v", topic, kerr.ErrorForCode(code))
	}
}

func tryCreateTopic(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partitions int32, configs map[string]*string) int16 {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, v
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].ErrorCode
}

func listEnd(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = 0, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(p.ErrorCode))
	}
	return p.Offset
}
