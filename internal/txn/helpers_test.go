package txn

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// memStore is an in-memory __transaction_state: a test double of the
// storage only. failNext makes the next Append fail without storing.
type memStore struct {
	mu         sync.Mutex
	partitions map[int32][]Record
	failNext   error
	replayGate chan struct{} // when set, Replay closes replaying and waits for it to close
	replaying  chan struct{}
}

func newMemStore() *memStore { return &memStore{partitions: make(map[int32][]Record)} }

func (s *memStore) Append(_ context.Context, partition int32, recs []Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failNext; err != nil {
		s.failNext = nil
		return err
	}
	for _, r := range recs {
		s.partitions[partition] = append(s.partitions[partition], Record{Key: slices.Clone(r.Key), Value: slices.Clone(r.Value)})
	}
	return nil
}

func (s *memStore) Replay(partition int32, fn func(Record) error) error {
	s.mu.Lock()
	gate, replaying := s.replayGate, s.replaying
	recs := slices.Clone(s.partitions[partition])
	s.mu.Unlock()
	if gate != nil {
		close(replaying)
		<-gate
	}
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (s *memStore) failNextAppend(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = err
}

// history decodes every record persisted for id, oldest first; a tombstone
// is a nil entry.
func (s *memStore) history(t *testing.T, partition int32, id string) []*kmsg.TxnMetadataValue {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kmsg.TxnMetadataValue
	for _, r := range s.partitions[partition] {
		var k kmsg.TxnMetadataKey
		if err := k.ReadFrom(r.Key); err != nil {
			t.Fatalf("stored key does not decode: %v", err)
		}
		if k.Version != txnKeyVersion {
			t.Fatalf("stored key version %d, want %d", k.Version, txnKeyVersion)
		}
		if k.TransactionalID != id {
			continue
		}
		if r.Value == nil {
			out = append(out, nil)
			continue
		}
		v := new(kmsg.TxnMetadataValue)
		if err := v.ReadFrom(r.Value); err != nil {
			t.Fatalf("stored value does not decode: %v", err)
		}
		if v.Version != txnValueVersion {
			t.Fatalf("stored value version %d, want %d", v.Version, txnValueVersion)
		}
		out = append(out, v)
	}
	return out
}

func states(vs []*kmsg.TxnMetadataValue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		if v == nil {
			out[i] = "tombstone"
		} else {
			out[i] = v.State.String()
		}
	}
	return out
}

// markerCall is one WriteMarkers call.
type markerCall struct {
	producerID       int64
	epoch            int16
	commit           bool
	coordinatorEpoch int32
	partitions       []TopicPartition
}

// recordingMarkers is a test double of the marker writer: it records every
// call and fails partitions as scripted.
type recordingMarkers struct {
	mu       sync.Mutex
	calls    []markerCall
	failures map[TopicPartition][]error // consumed one per call
	gate     chan struct{}              // when set, calls wait for it to close (or ctx)
	notify   chan markerCall            // when set, each call is sent to it
}

func newRecordingMarkers() *recordingMarkers {
	return &recordingMarkers{failures: make(map[TopicPartition][]error)}
}

func (m *recordingMarkers) WriteMarkers(ctx context.Context, producerID int64, epoch int16, commit bool, coordinatorEpoch int32, partitions []TopicPartition) map[TopicPartition]error {
	m.mu.Lock()
	call := markerCall{producerID, epoch, commit, coordinatorEpoch, slices.Clone(partitions)}
	m.calls = append(m.calls, call)
	gate, notify := m.gate, m.notify
	m.mu.Unlock()
	if notify != nil {
		notify <- call
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			failed := make(map[TopicPartition]error)
			for _, tp := range partitions {
				failed[tp] = ctx.Err()
			}
			return failed
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	failed := make(map[TopicPartition]error)
	for _, tp := range partitions {
		if errs := m.failures[tp]; len(errs) > 0 {
			failed[tp] = errs[0]
			m.failures[tp] = errs[1:]
		}
	}
	return failed
}

func (m *recordingMarkers) failTimes(tp TopicPartition, errs ...error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[tp] = append(m.failures[tp], errs...)
}

func (m *recordingMarkers) hold() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gate = make(chan struct{})
}

func (m *recordingMarkers) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gate != nil {
		close(m.gate)
		m.gate = nil
	}
}

func (m *recordingMarkers) recorded() []markerCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// countingIDs hands out producer ids 1000, 1001, ...
type countingIDs struct {
	mu   sync.Mutex
	next int64
	fail error
}

func (c *countingIDs) Next(context.Context) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return 0, c.fail
	}
	id := c.next
	c.next++
	return id, nil
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

const (
	testPartitions       = 3
	testGroupPartition   = 7
	testCoordinatorEpoch = 5
	testTimeoutMillis    = 60_000
)

type harness struct {
	t       *testing.T
	c       *Coordinator
	store   *memStore
	markers *recordingMarkers
	ids     *countingIDs
	clock   *fakeClock
	cfg     Config
}

// newHarness starts a coordinator with an injected clock and no background
// sweeps (tests call them after moving the clock), owning every partition.
// Marker jobs run in the background with a 1ms retry backoff; settle waits
// for them.
func newHarness(t *testing.T, tweak func(*Config)) *harness {
	t.Helper()
	h := &harness{
		t:       t,
		store:   newMemStore(),
		markers: newRecordingMarkers(),
		ids:     &countingIDs{next: 1000},
		clock:   &fakeClock{now: time.Unix(1_700_000_000, 0)},
	}
	h.cfg = Config{
		NumPartitions:              testPartitions,
		AbortTimedOutCheckInterval: time.Hour,
		RemoveExpiredCheckInterval: time.Hour,
		MarkerRetryBackoff:         time.Millisecond,
		GroupPartition:             func(string) int32 { return testGroupPartition },
		CoordinatorEpoch:           func(int32) int32 { return testCoordinatorEpoch },
		Now:                        h.clock.Now,
		Logger:                     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if tweak != nil {
		tweak(&h.cfg)
	}
	h.c = h.start()
	return h
}

// start makes a coordinator over the harness's store and loads every
// partition, as a broker restarting on the same log would.
func (h *harness) start() *Coordinator {
	h.t.Helper()
	c := New(h.cfg, h.store, h.markers, h.ids)
	h.t.Cleanup(c.Close)
	for p := range int32(testPartitions) {
		if err := c.Load(p); err != nil {
			h.t.Fatal(err)
		}
	}
	return c
}

// settle waits until every marker job has finished.
func (h *harness) settle() { h.c.completions.Wait() }

type producer struct {
	id         string
	producerID int64
	epoch      int16
}

func (h *harness) initRequest(id string, version int16) *kmsg.InitProducerIDRequest {
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = version
	req.TransactionalID = &id
	req.TransactionTimeoutMillis = testTimeoutMillis
	return req
}

// initProducer runs InitProducerId (v4, no KIP-360 fields) and requires
// success.
func (h *harness) initProducer(id string) producer {
	h.t.Helper()
	resp := h.c.InitProducerID(context.Background(), h.initRequest(id, 4))
	requireCode(h.t, "InitProducerId", resp.ErrorCode, nil)
	return producer{id, resp.ProducerID, resp.ProducerEpoch}
}

func (h *harness) addPartitions(p producer, version int16, tps ...TopicPartition) *kmsg.AddPartitionsToTxnResponse {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = version
	req.TransactionalID = p.id
	req.ProducerID = p.producerID
	req.ProducerEpoch = p.epoch
	for _, tp := range tps {
		i := slices.IndexFunc(req.Topics, func(rt kmsg.AddPartitionsToTxnRequestTopic) bool { return rt.Topic == tp.Topic })
		if i < 0 {
			rt := kmsg.NewAddPartitionsToTxnRequestTopic()
			rt.Topic = tp.Topic
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.Partition)
	}
	return h.c.AddPartitionsToTxn(context.Background(), req)
}

// add runs AddPartitionsToTxn v3 and returns the one error code every
// partition got.
func (h *harness) add(p producer, tps ...TopicPartition) int16 {
	h.t.Helper()
	resp := h.addPartitions(p, 3, tps...)
	var code int16 = -1
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if code != -1 && rp.ErrorCode != code {
				h.t.Fatalf("partitions of one AddPartitionsToTxn answered differently: %+v", resp.Topics)
			}
			code = rp.ErrorCode
		}
	}
	return code
}

func endRequest(p producer, commit bool) *kmsg.EndTxnRequest {
	req := kmsg.NewPtrEndTxnRequest()
	req.Version = 3
	req.TransactionalID = p.id
	req.ProducerID = p.producerID
	req.ProducerEpoch = p.epoch
	req.Commit = commit
	return req
}

func (h *harness) end(p producer, commit bool) int16 {
	return h.c.EndTxn(context.Background(), endRequest(p, commit)).ErrorCode
}

func (h *harness) addOffsets(p producer, group string) int16 {
	return h.addOffsetsVersion(p, group, 3)
}

func (h *harness) addOffsetsVersion(p producer, group string, version int16) int16 {
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.Version = version
	req.TransactionalID = p.id
	req.ProducerID = p.producerID
	req.ProducerEpoch = p.epoch
	req.Group = group
	return h.c.AddOffsetsToTxn(context.Background(), req).ErrorCode
}

func (h *harness) describe(id string) kmsg.DescribeTransactionsResponseTransactionState {
	h.t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	resp := h.c.DescribeTransactions(context.Background(), req)
	if len(resp.TransactionStates) != 1 {
		h.t.Fatalf("DescribeTransactions answered %d states for one id", len(resp.TransactionStates))
	}
	return resp.TransactionStates[0]
}

func (h *harness) state(id string) string {
	h.t.Helper()
	d := h.describe(id)
	requireCode(h.t, "DescribeTransactions", d.ErrorCode, nil)
	return d.State
}

func requireCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	if got != code(want) {
		t.Fatalf("%s: got %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}

func tp(topic string, partition int32) TopicPartition { return TopicPartition{topic, partition} }
