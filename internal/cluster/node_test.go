package cluster

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
)

// testLogWriter sends log lines to the test's log, so that they show only on failure
// or with -v.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func startNode(t *testing.T, dir string, mutate ...func(*Config)) *Node {
	t.Helper()
	cfg := Config{
		NodeID: 1, Dir: dir, Host: "127.0.0.1", Port: 9092,
		Logger: slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	began := time.Now()
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(began))
	t.Cleanup(func() { _ = n.Close() })
	return n
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func create(t *testing.T, n *Node, name string, partitions int32) *Topic {
	t.Helper()
	topic, err := n.CreateTopic(ctx(t), CreateTopicRequest{Name: name, Partitions: partitions, ReplicationFactor: -1})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return topic
}

func TestStartRegistersBroker(t *testing.T) {
	n := startNode(t, t.TempDir(), func(c *Config) { c.Rack = "r1" })
	img := n.Image()
	if len(img.ClusterID) != 22 || img.ControllerID != 1 || img.ControllerEpoch != 1 {
		t.Fatalf("image: %+v", img)
	}
	b, ok := img.Brokers[1]
	if !ok || b.Host != "127.0.0.1" || b.Port != 9092 || b.Rack != "r1" || b.Incarnation.IsZero() {
		t.Fatalf("broker: %+v", b)
	}
	if !n.Ready() {
		t.Fatal("not ready")
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if n.Ready() {
		t.Fatal("ready after Close")
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCreateAlterDeleteTopic(t *testing.T) {
	n := startNode(t, t.TempDir())
	topic, err := n.CreateTopic(ctx(t), CreateTopicRequest{
		Name: "orders", Partitions: 3, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "1000"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := n.Image().Topic("orders")
	if got == nil || got.ID != topic.ID || got.ID.IsZero() || len(got.Partitions) != 3 || got.Internal {
		t.Fatalf("topic: %+v", got)
	}
	for i, p := range got.Partitions {
		if p.Index != int32(i) || p.Leader != 1 || p.LeaderEpoch != 0 || len(p.Replicas) != 1 || len(p.ISR) != 1 {
			t.Fatalf("partition %d: %+v", i, p)
		}
	}
	if cfg, err := n.TopicConfig(got); err != nil || cfg.RetentionMs != 1000 {
		t.Fatalf("config: %+v %v", cfg, err)
	}

	compact := ReplaceConfigs(map[string]*string{"cleanup.policy": kmsg.StringPtr("compact")})
	if err := n.AlterTopicConfigs(ctx(t), "orders", compact, false); err != nil {
		t.Fatal(err)
	}
	if c := n.Image().Topic("orders").Configs; len(c) != 1 || c["cleanup.policy"] != "compact" {
		t.Fatalf("configs after alter: %v", c)
	}
	invalid := ReplaceConfigs(map[string]*string{"cleanup.policy": kmsg.StringPtr("x")})
	if err := n.AlterTopicConfigs(ctx(t), "orders", invalid, true); !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("invalid alter: %v", err)
	}
	incremental := IncrementalConfigs([]config.AlterOp{
		{Name: "cleanup.policy", Op: kmsg.IncrementalAlterConfigOpAppend, Value: kmsg.StringPtr("delete")},
		{Name: "retention.ms", Op: kmsg.IncrementalAlterConfigOpSet, Value: kmsg.StringPtr("60000")},
	})
	if err := n.AlterTopicConfigs(ctx(t), "orders", incremental, false); err != nil {
		t.Fatal(err)
	}
	if c := n.Image().Topic("orders").Configs; len(c) != 2 || c["cleanup.policy"] != "compact,delete" || c["retention.ms"] != "60000" {
		t.Fatalf("configs after incremental alter: %v", c)
	}

	if err := n.CreatePartitions(ctx(t), "orders", 5, false); err != nil {
		t.Fatal(err)
	}
	if p := n.Image().Topic("orders").Partitions; len(p) != 5 || p[4].Index != 4 {
		t.Fatalf("partitions after grow: %+v", p)
	}

	if err := n.DeleteTopic(ctx(t), "orders"); err != nil {
		t.Fatal(err)
	}
	if n.Image().Topic("orders") != nil || n.Image().TopicByID(topic.ID) != nil {
		t.Fatal("topic still there")
	}

	byID := create(t, n, "by-id", 1)
	if err := n.DeleteTopicByID(ctx(t), byID.ID); err != nil {
		t.Fatal(err)
	}
	if err := n.DeleteTopicByID(ctx(t), byID.ID); !errors.Is(err, kerr.UnknownTopicID) {
		t.Fatalf("second delete by id: %v", err)
	}
}

func TestCreateTopicDefaultsAndValidateOnly(t *testing.T) {
	defaults, err := config.ParseBroker(map[string]string{"num.partitions": "4"})
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, t.TempDir(), func(c *Config) { c.Defaults = defaults })
	topic, err := n.CreateTopic(ctx(t), CreateTopicRequest{Name: "dry", Partitions: -1, ReplicationFactor: -1, ValidateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(topic.Partitions) != 4 || !topic.ID.IsZero() || n.Image().Topic("dry") != nil {
		t.Fatalf("validate-only: %+v", topic)
	}
	manual, err := n.CreateTopic(ctx(t), CreateTopicRequest{Name: "manual", Partitions: -1, ReplicationFactor: -1,
		Assignment: [][]int32{{1}, {1}}})
	if err != nil || len(manual.Partitions) != 2 {
		t.Fatalf("manual: %+v %v", manual, err)
	}
}

func TestCreateTopicErrors(t *testing.T) {
	n := startNode(t, t.TempDir())
	create(t, n, "taken.name", 1)
	cases := []struct {
		req  CreateTopicRequest
		code *kerr.Error
	}{
		{CreateTopicRequest{Name: "taken.name", Partitions: 1, ReplicationFactor: 1}, kerr.TopicAlreadyExists},
		{CreateTopicRequest{Name: "taken_name", Partitions: 1, ReplicationFactor: 1}, kerr.InvalidTopicException},
		{CreateTopicRequest{Name: "bad/name", Partitions: 1, ReplicationFactor: 1}, kerr.InvalidTopicException},
		{CreateTopicRequest{Name: "..", Partitions: 1, ReplicationFactor: 1}, kerr.InvalidTopicException},
		{CreateTopicRequest{Name: strings.Repeat("x", 250), Partitions: 1, ReplicationFactor: 1}, kerr.InvalidTopicException},
		{CreateTopicRequest{Name: "zero", Partitions: 0, ReplicationFactor: 1}, kerr.InvalidPartitions},
		{CreateTopicRequest{Name: "negative", Partitions: -5, ReplicationFactor: 1}, kerr.InvalidPartitions},
		{CreateTopicRequest{Name: "rf0", Partitions: 1, ReplicationFactor: 0}, kerr.InvalidReplicationFactor},
		{CreateTopicRequest{Name: "rf3", Partitions: 1, ReplicationFactor: 3}, kerr.InvalidReplicationFactor},
		{CreateTopicRequest{Name: "cfg", Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"retention.ms": "-7"}}, kerr.InvalidConfig},
		{CreateTopicRequest{Name: "cfg2", Partitions: 1, ReplicationFactor: 1, Configs: map[string]string{"nope": "1"}}, kerr.InvalidConfig},
		{CreateTopicRequest{Name: "both", Partitions: 1, ReplicationFactor: -1, Assignment: [][]int32{{1}}}, kerr.InvalidRequest},
		{CreateTopicRequest{Name: "ghost", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{2}}}, kerr.InvalidReplicaAssignment},
		{CreateTopicRequest{Name: "twice", Partitions: -1, ReplicationFactor: -1, Assignment: [][]int32{{1, 1}}}, kerr.InvalidReplicaAssignment},
		{CreateTopicRequest{Name: "__cluster_metadata", Partitions: 1, ReplicationFactor: 1}, kerr.InvalidRequest},
	}
	for _, c := range cases {
		_, err := n.CreateTopic(ctx(t), c.req)
		if !errors.Is(err, c.code) {
			t.Errorf("%.20s: err = %v, want %v", c.req.Name, err, c.code)
		}
		var e *Error
		if errors.As(err, &e) && e.Message == "" {
			t.Errorf("%.20s: empty message", c.req.Name)
		}
	}
}

func TestTopicOperationErrors(t *testing.T) {
	n := startNode(t, t.TempDir())
	create(t, n, "three", 3)
	if err := n.DeleteTopic(ctx(t), "missing"); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("delete missing: %v", err)
	}
	if err := n.CreatePartitions(ctx(t), "missing", 4, false); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("grow missing: %v", err)
	}
	if err := n.CreatePartitions(ctx(t), "three", 3, false); !errors.Is(err, kerr.InvalidPartitions) {
		t.Errorf("grow to same: %v", err)
	}
	if err := n.CreatePartitions(ctx(t), "three", 2, false); !errors.Is(err, kerr.InvalidPartitions) {
		t.Errorf("shrink: %v", err)
	}
	if err := n.CreatePartitions(ctx(t), "three", 9, true); err != nil || len(n.Image().Topic("three").Partitions) != 3 {
		t.Errorf("validate-only grow: %v", err)
	}
	if err := n.AlterTopicConfigs(ctx(t), "missing", ReplaceConfigs(nil), false); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("alter missing: %v", err)
	}
}

func TestInternalTopics(t *testing.T) {
	n := startNode(t, t.TempDir())
	topic, err := n.CreateInternalTopic(ctx(t), ConsumerOffsetsTopic, 5, map[string]string{"cleanup.policy": "delete"})
	if err != nil {
		t.Fatal(err)
	}
	if !topic.Internal || len(topic.Partitions) != 5 || topic.Configs["cleanup.policy"] != "compact" ||
		topic.Configs["segment.bytes"] != "104857600" {
		t.Fatalf("internal topic: %+v", topic)
	}
	if _, err := n.CreateInternalTopic(ctx(t), ConsumerOffsetsTopic, 5, nil); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("second create: %v", err)
	}
	if err := n.DeleteTopic(ctx(t), ConsumerOffsetsTopic); !errors.Is(err, kerr.InvalidRequest) {
		t.Fatalf("delete internal: %v", err)
	}
	if err := n.DeleteTopicByID(ctx(t), topic.ID); !errors.Is(err, kerr.InvalidRequest) {
		t.Fatalf("delete internal by id: %v", err)
	}
	txn, err := n.CreateInternalTopic(ctx(t), TransactionStateTopic, 2, nil)
	if err != nil || txn.Configs["min.insync.replicas"] != "1" || txn.Configs["cleanup.policy"] != "compact" {
		t.Fatalf("transaction state: %+v %v", txn, err)
	}
}

func TestWatchSeesEveryImageInOrder(t *testing.T) {
	n := startNode(t, t.TempDir())
	create(t, n, "before", 1)

	var mu sync.Mutex
	var calls [][2]*Image
	n.Watch(func(prev, next *Image) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, [2]*Image{prev, next})
	})

	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			create(t, n, name, 1)
		}()
	}
	wg.Wait()
	if err := n.DeleteTopic(ctx(t), "a"); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 7 {
		t.Fatalf("%d watcher calls, want 7 (initial, 5 creates, 1 delete)", len(calls))
	}
	if calls[0][0].Version != 0 || len(calls[0][0].Topics) != 0 || calls[0][1].Topic("before") == nil {
		t.Fatalf("initial call should be (empty, current)")
	}
	for i := 1; i < len(calls); i++ {
		prev, next := calls[i][0], calls[i][1]
		if prev != calls[i-1][1] || next.Version <= prev.Version {
			t.Fatalf("call %d: prev is not the last next, or version did not grow (%d -> %d)", i, prev.Version, next.Version)
		}
	}
	if last := calls[len(calls)-1][1]; last != n.Image() || last.Topic("a") != nil || len(last.Topics) != 5 {
		t.Fatalf("last image is not current")
	}
}

func TestRestartKeepsMetadata(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	first := n.Image()
	orders := create(t, n, "orders", 2)
	block1, count, err := n.AllocateProducerIDs(ctx(t))
	if err != nil || count != ProducerIDBlockSize {
		t.Fatalf("allocate: %d %d %v", block1, count, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = startNode(t, dir)
	img := n.Image()
	if img.ClusterID != first.ClusterID {
		t.Fatalf("cluster id changed: %s -> %s", first.ClusterID, img.ClusterID)
	}
	if got := img.Topic("orders"); got == nil || got.ID != orders.ID || len(got.Partitions) != 2 {
		t.Fatalf("orders after restart: %+v", got)
	}
	if img.ControllerEpoch != first.ControllerEpoch+1 || img.Brokers[1].Epoch <= first.Brokers[1].Epoch ||
		img.Brokers[1].Incarnation == first.Brokers[1].Incarnation {
		t.Fatalf("controller epoch or broker registration not renewed: %+v %+v", img, img.Brokers[1])
	}
	block2, _, err := n.AllocateProducerIDs(ctx(t))
	if err != nil || block2 < block1+int64(count) {
		t.Fatalf("producer ids went backwards: %d then %d (%v)", block1, block2, err)
	}
	if img.Version <= first.Version {
		t.Fatalf("version did not grow: %d -> %d", first.Version, img.Version)
	}
}

func TestRestartFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir)
	kept := create(t, n, "in-snapshot", 1)
	block1, _, err := n.AllocateProducerIDs(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	after := create(t, n, "after-snapshot", 1)
	if err := n.DeleteTopic(ctx(t), "in-snapshot"); err != nil {
		t.Fatal(err)
	}
	before := n.Image()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	var logs lockedBuffer
	n = startNode(t, dir, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if !strings.Contains(logs.String(), "restored from snapshot") {
		t.Fatalf("restart did not restore the snapshot; logs:\n%s", logs.String())
	}
	snapshots, err := n.raftSnapshots()
	if err != nil || snapshots == 0 {
		t.Fatalf("no snapshot on disk (%d, %v)", snapshots, err)
	}
	img := n.Image()
	if img.ClusterID != before.ClusterID || img.Topic("in-snapshot") != nil || img.TopicByID(kept.ID) != nil {
		t.Fatalf("state before the snapshot not replayed correctly")
	}
	if got := img.Topic("after-snapshot"); got == nil || got.ID != after.ID {
		t.Fatalf("entry after the snapshot lost: %+v", got)
	}
	block2, _, err := n.AllocateProducerIDs(ctx(t))
	if err != nil || block2 <= block1 {
		t.Fatalf("producer ids went backwards: %d then %d (%v)", block1, block2, err)
	}
}

func TestTCPTransportSingleVoter(t *testing.T) {
	n := startNode(t, t.TempDir(), func(c *Config) { c.RaftAddr = "127.0.0.1:0" })
	create(t, n, "over-tcp", 1)
	if n.Image().Topic("over-tcp") == nil {
		t.Fatal("topic missing")
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConcurrentCreatesOfOneNameAgree(t *testing.T) {
	n := startNode(t, t.TempDir())
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = n.CreateTopic(ctx(t), CreateTopicRequest{Name: "race", Partitions: 1, ReplicationFactor: 1})
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, kerr.TopicAlreadyExists):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if created != 1 {
		t.Fatalf("%d creates succeeded, want 1", created)
	}
}
