package broker_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/records"
	"github.com/waybill/waybill/internal/testbroker"
)

// Compaction tests through the broker: keyed records written by a real producer to a
// cleanup.policy=compact topic, the maintenance loop compacting them, a real consumer
// reading the result; and the same for __consumer_offsets, whose default 100 MiB
// segments never roll in a test, so the test shortens its segment.ms the way an operator
// would (kafka-configs --alter on the internal topic).

// firstOffsets fetches partition 0 of topic from offset 0 and returns the offsets of
// the records in the whole batches of the first response, decoded with records.Iterate.
func firstOffsets(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, maxBytes int32) []int64 {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 100, 1, maxBytes
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, topicID(ctx, t, cl, topic)
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = maxBytes
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
	var offsets []int64
	for rest := p.RecordBatches; len(rest) > 0; {
		h, err := records.ParseHeader(rest)
		if err != nil || h.Size() > len(rest) {
			break
		}
		err = records.Iterate(rest, func(r records.Record) error {
			offsets = append(offsets, h.BaseOffset+int64(r.OffsetDelta))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rest = rest[h.Size():]
	}
	return offsets
}

// waitCompacted polls until the first record of topic is no longer at offset 0.
func waitCompacted(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, maxBytes int32) {
	t.Helper()
	for {
		if offs := firstOffsets(ctx, t, cl, topic, maxBytes); len(offs) > 0 && offs[0] > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s was never compacted", topic)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// expectedAfterCompaction is what Kafka's cleaner keeps of records with keys[o] at
// offset o once it has cleaned everything below cleanedTo: below it, the last record of
// each key (latest as of cleanedTo); from it on, everything.
func expectedAfterCompaction(keys []string, cleanedTo int) map[int64]bool {
	last := map[string]int{}
	for o := 0; o < cleanedTo; o++ {
		last[keys[o]] = o
	}
	kept := map[int64]bool{}
	for _, o := range last {
		kept[int64(o)] = true
	}
	for o := cleanedTo; o < len(keys); o++ {
		kept[int64(o)] = true
	}
	return kept
}

func sameOffsetSet(a, b map[int64]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for o := range a {
		if !b[o] {
			return false
		}
	}
	return true
}

func TestCompactedTopicKeepsLatestValuePerKey(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithMaintenanceInterval(50*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr(), kgo.ProducerBatchCompression(kgo.NoCompression()))
	createTopic(ctx, t, cl, "compacted", 1, map[string]*string{
		"cleanup.policy": kmsg.StringPtr("compact"),
		"segment.bytes":  kmsg.StringPtr("1048576"), // the minimum: about 950 records a segment
	})

	// About 3.3 MB: three sealed segments and the active one. Keys repeat irregularly
	// so that the cleaned part keeps a few old records that nothing overwrote.
	const n = 3000
	padding := bytes.Repeat([]byte("p"), 1000)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", (i*7)%61+(i/900)*1000)
		value := append([]byte(fmt.Sprintf("%06d:", i)), padding...)
		cl.Produce(ctx, &kgo.Record{Topic: "compacted", Key: []byte(keys[i]), Value: value}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	waitCompacted(ctx, t, cl, "compacted", 64<<10)

	consumer := newClient(t, b.Addr(), kgo.ConsumeTopics("compacted"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	kept := map[int64]bool{}
	for !kept[n-1] { // the last record is always kept
		fetches := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records: %v", len(kept), ctx.Err())
		}
		fetches.EachRecord(func(r *kgo.Record) {
			// Offsets are preserved: the record at offset o is the o-th one produced.
			if want := fmt.Sprintf("%06d:", r.Offset); !bytes.HasPrefix(r.Value, []byte(want)) || string(r.Key) != keys[r.Offset] {
				t.Fatalf("offset %d holds key %s value %.7s, want %s %s", r.Offset, r.Key, r.Value, keys[r.Offset], want)
			}
			kept[r.Offset] = true
		})
	}
	if len(kept) >= n {
		t.Fatalf("all %d records still there after compaction", n)
	}
	// The result must be exactly a clean up to some offset: latest per key below it,
	// everything above it.
	for cleanedTo := 1; cleanedTo <= n; cleanedTo++ {
		if sameOffsetSet(kept, expectedAfterCompaction(keys, cleanedTo)) {
			t.Logf("%d of %d records kept, cleaned below offset %d", len(kept), n, cleanedTo)
			return
		}
	}
	t.Fatalf("the %d kept records are not what compacting any prefix keeps", len(kept))
}

// TestConsumerOffsetsAreCompacted commits one partition's offset thousands of times, lets
// the maintenance loop compact __consumer_offsets, and checks that the commits shrank to
// a few records while the group still reads its latest offset, also after a restart
// (which rebuilds the coordinator from the compacted log).
func TestConsumerOffsetsAreCompacted(t *testing.T) {
	b := testbroker.Start(t, testbroker.WithMaintenanceInterval(50*time.Millisecond),
		testbroker.WithBrokerConfig(map[string]string{"offsets.topic.num.partitions": "1"}))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	createTopic(ctx, t, cl, "tracked", 1, nil)

	commit := func(at int64) {
		t.Helper()
		resp, err := adm.CommitOffsets(ctx, "compacting-group", kadm.OffsetsFromRecords(kgo.Record{Topic: "tracked", Offset: at - 1}))
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("commit %d: %v", at, err)
		}
	}
	commit(1) // creates __consumer_offsets
	alter := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, "__consumer_offsets"
	cfg := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	cfg.Name, cfg.Value = "segment.ms", kmsg.StringPtr("100")
	res.Configs = append(res.Configs, cfg)
	alter.Resources = append(alter.Resources, res)
	ar, err := alter.RequestWith(ctx, cl)
	if err != nil || ar.Resources[0].ErrorCode != 0 {
		t.Fatalf("altering __consumer_offsets: %v %v", err, kerr.ErrorForCode(ar.Resources[0].ErrorCode))
	}

	const commits = 2000
	for at := int64(2); at <= commits; at++ {
		commit(at)
	}
	waitCompacted(ctx, t, cl, "__consumer_offsets", 16<<20)
	left := len(firstOffsets(ctx, t, cl, "__consumer_offsets", 16<<20))
	if left >= commits/2 {
		t.Fatalf("%d of %d commit records left after compaction", left, commits)
	}
	t.Logf("%d of %d commit records left after compaction", left, commits)

	check := func(when string) {
		t.Helper()
		fetched, err := adm.FetchOffsets(ctx, "compacting-group")
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := fetched.Lookup("tracked", 0); !ok || o.Err != nil || o.At != commits {
			t.Fatalf("%s: committed offset %+v, want %d", when, o, commits)
		}
	}
	check("after compaction")
	b.Restart()
	check("after restart")
}
