package compat_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchOfEmptyPartitionSendsEmptyNotNullRecords pins the broker bug that stops
// librdkafka (kcat, confluent-kafka-python, confluent-kafka-go) at the end of a
// partition: a Fetch partition without records must carry an empty record set, as
// Kafka sends (MemoryRecords.EMPTY), not a null one. librdkafka rejects null
// ("invalid MessageSetSize -1"), drops the whole response, and retries forever.
//
// The partition is the last field of a one-topic, one-partition response, so its
// Records length is the response's last 4 bytes (int32, v4-11), or, in flexible
// versions (v12+), the byte before the partition, topic and response tag buffers
// (compact length+1: 1 is empty, 0 is null).
func TestFetchOfEmptyPartitionSendsEmptyNotNullRecords(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	b := startBroker(t)
	const topic = "empty"
	createTopic(ctx, t, b.Addr(), topic, 1)
	topics, err := newAdmin(t, b.Addr()).ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	topicID := topics[topic].ID

	conn := dialRaw(ctx, t, b.Addr())
	for version := int16(4); version <= 16; version++ {
		req := kmsg.NewPtrFetchRequest()
		req.Version = version
		req.ReplicaID = -1
		req.MaxBytes = 1 << 20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, topicID
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes = 1 << 20
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)

		body := roundTripRaw(t, conn, req, int32(version))
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		if err := resp.ReadFrom(body); err != nil {
			t.Fatalf("Fetch v%d: decoding response: %v", version, err)
		}
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			t.Fatalf("Fetch v%d: want one topic with one partition, got %+v", version, resp)
		}
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("Fetch v%d: partition error code %d", version, code)
		}
		tail := hex.EncodeToString(body[len(body)-4:])
		if version < 12 {
			if n := int32(binary.BigEndian.Uint32(body[len(body)-4:])); n != 0 {
				t.Errorf("Fetch v%d: empty partition's Records length is %d (last bytes %s), want 0 (empty record set)", version, n, tail)
			}
		} else if n := body[len(body)-4]; n != 1 {
			t.Errorf("Fetch v%d: empty partition's Records compact length+1 is %d (last bytes %s), want 1 (empty record set)", version, n, tail)
		}
	}
}

// dialRaw opens a plain TCP connection for hand-made requests, closed at test end and
// bounded by ctx's deadline.
func dialRaw(ctx context.Context, t *testing.T, addr string) net.Conn {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if deadline, ok := ctx.Deadline(); ok {
		if err := conn.SetDeadline(deadline); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

// roundTripRaw sends req and returns the response body after the response header.
func roundTripRaw(t *testing.T, conn net.Conn, req kmsg.Request, correlationID int32) []byte {
	t.Helper()
	frame := kmsg.NewRequestFormatter(kmsg.FormatterClientID("waybill-compat-raw")).AppendRequest(nil, req, correlationID)
	if _, err := conn.Write(frame); err != nil {
		t.Fatalf("%s v%d: write: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		t.Fatalf("%s v%d: reading response size: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(conn, resp); err != nil {
		t.Fatalf("%s v%d: reading response: %v", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	if got := int32(binary.BigEndian.Uint32(resp)); got != correlationID {
		t.Fatalf("%s v%d: correlation id %d, want %d", kmsg.NameForKey(req.Key()), req.GetVersion(), got, correlationID)
	}
	headerLen := 4
	if req.IsFlexible() {
		headerLen++ // an empty tag buffer
	}
	return resp[headerLen:]
}
