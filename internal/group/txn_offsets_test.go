package group

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnCommit describes one TxnOffsetCommit; zero fields take the defaults of
// a v3 request from a client outside group management.
type txnCommit struct {
	version    int16
	producerID int64
	epoch      int16
	generation int32
	memberID   string
	instanceID string
	offsets    map[int32]int64 // partition of topic "t1" -> offset
}

func (h *harness) txnCommit(groupID string, tc txnCommit) *kerr.Error {
	h.t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version = tc.version
	if req.Version == 0 {
		req.Version = 3
	}
	req.TransactionalID = "txn"
	req.Group = groupID
	req.ProducerID = tc.producerID
	req.ProducerEpoch = tc.epoch
	req.Generation = tc.generation
	if tc.generation == 0 && tc.memberID == "" {
		req.Generation = -1
	}
	req.MemberID = tc.memberID
	req.InstanceID = optionalString(tc.instanceID)
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = "t1"
	for p, o := range tc.offsets {
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition = p
		rp.Offset = o
		rp.LeaderEpoch = 3
		rp.Metadata = stringPtr("txn-meta")
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = []kmsg.TxnOffsetCommitRequestTopic{rt}
	resp := h.c.TxnOffsetCommit(context.Background(), req)
	if resp.Version != req.Version || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != len(tc.offsets) {
		h.t.Fatalf("TxnOffsetCommit answered %+v", resp)
	}
	var first *kerr.Error
	for i, p := range resp.Topics[0].Partitions {
		err := kerr.TypedErrorForCode(p.ErrorCode)
		if i > 0 && err != first {
			h.t.Fatalf("mixed partition errors %v and %v", first, err)
		}
		first = err
	}
	return first
}

// endTxn writes producerID's marker to the group's partition and reports it,
// as the broker does when the transaction coordinator sends WriteTxnMarkers.
func (h *harness) endTxn(groupID string, producerID int64, commit bool) {
	p := h.c.PartitionFor(groupID)
	h.store.writeMarker(p, producerID, commit)
	h.c.CompleteTxn(p, producerID, commit)
}

// fetched is one partition of an OffsetFetch answer.
type fetched struct {
	offset int64
	err    *kerr.Error
}

// fetchT1 fetches partitions of "t1" with OffsetFetch v7 (no partitions:
// every committed one), with or without require_stable.
func (h *harness) fetchT1(groupID string, requireStable bool, partitions ...int32) map[int32]fetched {
	h.t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 7
	req.Group = groupID
	req.RequireStable = requireStable
	if partitions != nil {
		rt := kmsg.NewOffsetFetchRequestTopic()
		rt.Topic = "t1"
		rt.Partitions = partitions
		req.Topics = []kmsg.OffsetFetchRequestTopic{rt}
	}
	resp := h.c.OffsetFetch(context.Background(), req)
	h.expectCode(resp.ErrorCode, nil)
	out := make(map[int32]fetched)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[p.Partition] = fetched{p.Offset, kerr.TypedErrorForCode(p.ErrorCode)}
		}
	}
	return out
}

func (h *harness) expectFetched(groupID string, requireStable bool, want map[int32]fetched) {
	h.t.Helper()
	var partitions []int32
	for p := range want {
		partitions = append(partitions, p)
	}
	got := h.fetchT1(groupID, requireStable, partitions...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		h.t.Fatalf("fetch (require_stable=%v) = %v, want %v", requireStable, got, want)
	}
}

func (f fetched) String() string {
	if f.err != nil {
		return fmt.Sprintf("%d/%s", f.offset, f.err.Message)
	}
	return fmt.Sprint(f.offset)
}

var unstable = fetched{-1, kerr.UnstableOffsetCommit}

func committedAt(offset int64) fetched { return fetched{offset, nil} }

// restart builds a new coordinator over the same store and loads the
// group's partition, as a broker restart or a leadership move does.
func (h *harness) restart(groupID string) *harness {
	h.t.Helper()
	return h.restartWith(groupID, nil)
}

// restartWith is restart with the new coordinator's Config adjusted by tweak.
func (h *harness) restartWith(groupID string, tweak func(*Config)) *harness {
	h.t.Helper()
	r := &harness{t: h.t, store: h.store, clock: h.clock}
	cfg := Config{NumPartitions: testPartitions, NoInitialRebalanceDelay: true, TickInterval: time.Hour,
		Now: h.clock.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tweak != nil {
		tweak(&cfg)
	}
	r.c = New(cfg, h.store)
	h.t.Cleanup(r.c.Close)
	if err := r.c.Load(r.c.PartitionFor(groupID)); err != nil {
		h.t.Fatal(err)
	}
	return r
}

func TestTxnOffsetsVisibleOnlyAfterCommitMarker(t *testing.T) {
	h := newHarness(t, nil)
	const g = "eos"
	if err := h.txnCommit(g, txnCommit{producerID: 7, epoch: 2, offsets: map[int32]int64{0: 10, 1: 11}}); err != nil {
		t.Fatal(err)
	}
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(-1), 1: committedAt(-1)})
	if got := h.fetchT1(g, false); len(got) != 0 {
		t.Fatalf("all committed offsets while pending: %v", got)
	}

	// The records went out as a transactional batch of the producer.
	p := h.c.PartitionFor(g)
	h.store.mu.Lock()
	recs, epochs := h.store.partitions[p], h.store.txnEpochs
	h.store.mu.Unlock()
	if len(recs) != 2 || !recs[0].Transactional || recs[0].ProducerID != 7 || len(epochs) != 1 || epochs[0] != 2 {
		t.Fatalf("stored %+v with epochs %v, want 2 transactional records of producer 7 at epoch 2", recs, epochs)
	}

	// Another producer's marker does not touch them.
	h.endTxn(g, 8, true)
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(-1)})

	h.endTxn(g, 7, true)
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(10), 1: committedAt(11)})
	h.expectFetched(g, true, map[int32]fetched{0: committedAt(10), 1: committedAt(11)})
	resp := h.fetchV8(g, true, 0)
	if p := resp.Groups[0].Topics[0].Partitions[0]; p.Offset != 10 || p.LeaderEpoch != 3 || *p.Metadata != "txn-meta" {
		t.Fatalf("materialised offset %+v", p)
	}

	// A marker reported twice (a retried WriteTxnMarkers) changes nothing.
	h.c.CompleteTxn(p, 7, false)
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(10)})
}

func TestTxnOffsetsAbortedAreNeverVisible(t *testing.T) {
	h := newHarness(t, nil)
	const g = "aborted"
	if err := h.commit(g, "", -1, map[string]map[int32]int64{"t1": {0: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := h.txnCommit(g, txnCommit{producerID: 7, offsets: map[int32]int64{0: 10, 1: 11}}); err != nil {
		t.Fatal(err)
	}
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(5), 1: committedAt(-1)})
	h.endTxn(g, 7, false)
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(5), 1: committedAt(-1)})
	h.expectFetched(g, true, map[int32]fetched{0: committedAt(5), 1: committedAt(-1)})

	// A later commit marker of the same producer does not revive them.
	h.endTxn(g, 7, true)
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(5), 1: committedAt(-1)})
	h.restart(g).expectFetched(g, true, map[int32]fetched{0: committedAt(5), 1: committedAt(-1)})
}

func (h *harness) fetchV8(groupID string, requireStable bool, partitions ...int32) *kmsg.OffsetFetchResponse {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 8
	req.RequireStable = requireStable
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = groupID
	rt := kmsg.NewOffsetFetchRequestGroupTopic()
	rt.Topic = "t1"
	rt.Partitions = partitions
	rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{rt}
	req.Groups = []kmsg.OffsetFetchRequestGroup{rg}
	return h.c.OffsetFetch(context.Background(), req)
}

// require_stable answers UNSTABLE_OFFSET_COMMIT per partition while a
// transaction has an offset pending for it; other partitions answer as usual.
func TestRequireStableWhilePending(t *testing.T) {
	h := newHarness(t, nil)
	const g = "stable"
	if err := h.commit(g, "", -1, map[string]map[int32]int64{"t1": {0: 1, 1: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := h.txnCommit(g, txnCommit{producerID: 7, offsets: map[int32]int64{0: 10, 2: 12}}); err != nil {
		t.Fatal(err)
	}
	h.expectFetched(g, true, map[int32]fetched{0: unstable, 1: committedAt(2), 2: unstable})
	h.expectFetched(g, false, map[int32]fetched{0: committedAt(1), 1: committedAt(2), 2: committedAt(-1)})
	// "Every committed partition" lists committed ones only, as Kafka does.
	if got := h.fetchT1(g, true); fmt.Sprint(got) != fmt.Sprint(map[int32]fetched{0: unstable, 1: committedAt(2)}) {
		t.Fatalf("fetch of all offsets: %v", got)
	}

	// Before v7 there is no require_stable: the flag is ignored.
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = 6
	req.Group = g
	req.RequireStable = true
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = "t1", []int32{0}
	req.Topics = []kmsg.OffsetFetchRequestTopic{rt}
	if p := h.c.OffsetFetch(context.Background(), req).Topics[0].Partitions[0]; p.ErrorCode != 0 || p.Offset != 1 {
		t.Fatalf("v6 fetch %+v", p)
	}

	// The batched v8 form answers per partition too.
	ps := h.fetchV8(g, true, 0, 1).Groups[0].Topics[0].Partitions
	h.expectCode(ps[0].ErrorCode, kerr.UnstableOffsetCommit)
	if ps[0].Offset != -1 || ps[1].ErrorCode != 0 || ps[1].Offset != 2 {
		t.Fatalf("v8 fetch %+v", ps)
	}

	h.endTxn(g, 7, true)
	h.expectFetched(g, true, map[int32]fetched{0: committedAt(10), 1: committedAt(2), 2: committedAt(12)})
}

// Replay rebuilds exactly what the live coordinator had: offsets before
// their marker are pending, after it committed (or gone).
func TestTxnOffsetsSurviveReload(t *testing.T) {
	h := newHarness(t, nil)
	const committedGroup, openGroup = "replay-committed", "replay-open"
	if err := h.txnCommit(committedGroup, txnCommit{producerID: 1, offsets: map[int32]int64{0: 10}}); err != nil {
		t.Fatal(err)
	}
	h.endTxn(committedGroup, 1, true)
	if err := h.txnCommit(openGroup, txnCommit{producerID: 2, offsets: map[int32]int64{0: 20}}); err != nil {
		t.Fatal(err)
	}

	r := h.restart(committedGroup)
	r.expectFetched(committedGroup, true, map[int32]fetched{0: committedAt(10)})

	r = h.restart(openGroup)
	r.expectFetched(openGroup, false, map[int32]fetched{0: committedAt(-1)})
	r.expectFetched(openGroup, true, map[int32]fetched{0: unstable})
	if s := r.state(openGroup); s != stateEmpty {
		t.Fatalf("a group with only pending offsets reloads as %s, want Empty", s)
	}
	// The restarted coordinator completes the transaction the old one began.
	r.store.writeMarker(r.c.PartitionFor(openGroup), 2, true)
	r.c.CompleteTxn(r.c.PartitionFor(openGroup), 2, true)
	r.expectFetched(openGroup, true, map[int32]fetched{0: committedAt(20)})
	// And the marker is in the log for the next load.
	h.restart(openGroup).expectFetched(openGroup, true, map[int32]fetched{0: committedAt(20)})
}

// A CompleteTxn that arrives while the partition replays is not lost, even
// though the replay did not see its marker.
func TestCompleteTxnDuringLoad(t *testing.T) {
	h := newHarness(t, nil)
	const g = "loading-txn"
	p := h.c.PartitionFor(g)
	if err := h.txnCommit(g, txnCommit{producerID: 3, offsets: map[int32]int64{0: 30}}); err != nil {
		t.Fatal(err)
	}
	h.c.Unload(p)

	gate, copied := make(chan struct{}), make(chan struct{})
	h.store.mu.Lock()
	h.store.replayGate, h.store.replayCopied = gate, copied
	h.store.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- h.c.Load(p) }()
	receive(t, copied) // the replay will not see the marker written now
	h.endTxn(g, 3, true)
	close(gate)
	if err := receive(t, done); err != nil {
		t.Fatal(err)
	}
	h.expectFetched(g, true, map[int32]fetched{0: committedAt(30)})

	// CompleteTxn for a partition this coordinator does not own is ignored.
	h.c.Unload(p)
	h.c.CompleteTxn(p, 3, false)
}

// KIP-447: from v3 the commit names its member, checked like OffsetCommit.
func TestTxnCommitMemberValidation(t *testing.T) {
	h := newHarness(t, nil)
	const g = "txn-members"
	members := h.formGroup(g, 2, "instance-a")
	static, gen := members[0], members[0].generation
	if static.instanceID != "instance-a" {
		static = members[1]
	}
	offsets := map[int32]int64{0: 5}

	cases := []struct {
		name string
		tc   txnCommit
		want *kerr.Error
	}{
		{"current member", txnCommit{generation: gen, memberID: static.id, instanceID: "instance-a"}, nil},
		{"stale generation", txnCommit{generation: gen - 1, memberID: static.id}, kerr.IllegalGeneration},
		{"unknown member", txnCommit{generation: gen, memberID: "stranger"}, kerr.UnknownMemberID},
		{"fenced instance", txnCommit{generation: gen, memberID: "old-id", instanceID: "instance-a"}, kerr.FencedInstanceID},
		{"unknown instance", txnCommit{generation: gen, memberID: static.id, instanceID: "instance-b"}, kerr.UnknownMemberID},
		// Unlike OffsetCommit, a commit naming no member is accepted while
		// the group has members: v0-v2 cannot name one.
		{"v3 without a member", txnCommit{}, nil},
		{"v2 (fields ignored)", txnCommit{version: 2, generation: gen + 5, memberID: "stranger"}, nil},
		{"v4", txnCommit{version: 4, generation: gen, memberID: static.id}, nil},
		{"v5 needs KIP-890 part 2", txnCommit{version: 5}, kerr.UnsupportedVersion},
	}
	for _, c := range cases {
		c.tc.producerID, c.tc.offsets = 9, offsets
		if err := h.txnCommit(g, c.tc); err != c.want {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}

	// A group that does not exist accepts generation -1 only.
	if err := h.txnCommit("new-group", txnCommit{generation: 3, memberID: "m", producerID: 9, offsets: offsets}); err != kerr.IllegalGeneration {
		t.Fatalf("commit with a generation to a missing group: %v", err)
	}
	if s := h.state("new-group"); s != stateDead {
		t.Fatalf("refused commit left the group %s", s)
	}
	if err := h.txnCommit("new-group", txnCommit{producerID: 9, offsets: offsets}); err != nil {
		t.Fatalf("simple commit to a missing group: %v", err)
	}

	// Accepted while the group completes a rebalance, where OffsetCommit
	// answers REBALANCE_IN_PROGRESS.
	newcomer := h.joinAsync(g, joinOpts{memberID: h.newMemberID(g)})
	h.waitFor("rebalance", func() bool { return h.state(g) == statePreparingRebalance })
	rejoins := []<-chan *kmsg.JoinGroupResponse{newcomer}
	for _, m := range members {
		rejoins = append(rejoins, h.joinAsync(g, joinOpts{memberID: m.id, instanceID: m.instanceID}))
	}
	for _, ch := range rejoins {
		h.expectCode(h.receive(ch).ErrorCode, nil)
	}
	if s := h.state(g); s != stateCompletingRebalance {
		t.Fatalf("state %s, want CompletingRebalance", s)
	}
	if err := h.txnCommit(g, txnCommit{generation: gen + 1, memberID: static.id, instanceID: "instance-a", producerID: 9, offsets: offsets}); err != nil {
		t.Fatalf("txn commit while completing a rebalance: %v", err)
	}

	// Offsets are still validated, and a failed append is not applied.
	big := txnCommit{producerID: 10, offsets: offsets}
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.Version, req.Group, req.ProducerID, req.Generation = 3, "meta", big.producerID, -1
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = "t1"
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Metadata = stringPtr(strings.Repeat("x", 5000))
	rt.Partitions = []kmsg.TxnOffsetCommitRequestTopicPartition{rp}
	req.Topics = []kmsg.TxnOffsetCommitRequestTopic{rt}
	h.expectCode(h.c.TxnOffsetCommit(context.Background(), req).Topics[0].Partitions[0].ErrorCode, kerr.OffsetMetadataTooLarge)

	h.store.failNextAppend(kerr.NetworkException) // the KIP-890 verification could not be done
	if err := h.txnCommit("simple", big); err != kerr.CoordinatorLoadInProgress {
		t.Fatalf("commit during a failed verification: %v", err)
	}
	h.store.failNextAppend(kerr.InvalidTxnState)
	if err := h.txnCommit("simple", big); err != kerr.InvalidTxnState {
		t.Fatalf("commit outside the transaction: %v", err)
	}
	h.expectFetched("simple", true, map[int32]fetched{0: committedAt(-1)})
}

// When plain and transactional commits of one partition interleave, the one
// written later in the log wins, as in Kafka (which compares record offsets):
// a commit marker does not undo a plain commit sent after the
// TxnOffsetCommit. The reloaded state agrees with the live one.
func TestPlainAndTxnCommitsInterleaved(t *testing.T) {
	h := newHarness(t, nil)
	plain := func(g string, offset int64) {
		t.Helper()
		if err := h.commit(g, "", -1, map[string]map[int32]int64{"t1": {0: offset}}); err != nil {
			t.Fatal(err)
		}
	}
	txn := func(g string, producerID, offset int64) {
		t.Helper()
		if err := h.txnCommit(g, txnCommit{producerID: producerID, offsets: map[int32]int64{0: offset}}); err != nil {
			t.Fatal(err)
		}
	}

	// plain, then txn, then commit: the txn offset replaces the plain one.
	plain("plain-first", 5)
	txn("plain-first", 1, 10)
	h.expectFetched("plain-first", false, map[int32]fetched{0: committedAt(5)})
	h.endTxn("plain-first", 1, true)

	// txn, then plain, then commit: the plain offset is newer and stays.
	txn("txn-first", 1, 10)
	plain("txn-first", 20)
	h.expectFetched("txn-first", false, map[int32]fetched{0: committedAt(20)})
	h.expectFetched("txn-first", true, map[int32]fetched{0: unstable})
	h.endTxn("txn-first", 1, true)

	// Two producers: the one that wrote later wins whichever commits first.
	txn("two-producers", 1, 10)
	txn("two-producers", 2, 20)
	h.endTxn("two-producers", 2, true)
	h.endTxn("two-producers", 1, true)

	// A plain commit after the materialisation replaces it.
	txn("plain-after", 1, 10)
	h.endTxn("plain-after", 1, true)
	plain("plain-after", 15)

	want := map[string]int64{"plain-first": 10, "txn-first": 20, "two-producers": 20, "plain-after": 15}
	for g, offset := range want {
		h.expectFetched(g, true, map[int32]fetched{0: committedAt(offset)})
		h.restart(g).expectFetched(g, true, map[int32]fetched{0: committedAt(offset)})
	}
}

// Pending offsets keep a group from expiring, but not from DeleteGroups or
// OffsetDelete, which delete them with the committed ones, for good.
func TestPendingTxnOffsetsAndDeletion(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.commit("expiring", "", -1, map[string]map[int32]int64{"t1": {0: 1, 1: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := h.txnCommit("expiring", txnCommit{producerID: 4, offsets: map[int32]int64{1: 2, 2: 2}}); err != nil {
		t.Fatal(err)
	}
	h.advance(8 * 24 * time.Hour)
	h.expectFetched("expiring", false, map[int32]fetched{0: committedAt(-1), 1: committedAt(1)})
	if s := h.state("expiring"); s != stateEmpty {
		t.Fatalf("group with pending offsets expired: %s", s)
	}
	h.endTxn("expiring", 4, true)
	h.expectFetched("expiring", true, map[int32]fetched{1: committedAt(2), 2: committedAt(2)})
	h.advance(8 * 24 * time.Hour)
	if s := h.state("expiring"); s != stateDead {
		t.Fatalf("group %s once its transaction ended and offsets expired, want gone", s)
	}

	// OffsetDelete deletes a partition's pending offset.
	if err := h.txnCommit("offset-delete", txnCommit{producerID: 5, offsets: map[int32]int64{0: 3, 1: 3}}); err != nil {
		t.Fatal(err)
	}
	del := kmsg.NewPtrOffsetDeleteRequest()
	del.Group = "offset-delete"
	dt := kmsg.NewOffsetDeleteRequestTopic()
	dt.Topic = "t1"
	dp := kmsg.NewOffsetDeleteRequestTopicPartition()
	dp.Partition = 0
	dt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{dp}
	del.Topics = []kmsg.OffsetDeleteRequestTopic{dt}
	resp := h.c.OffsetDelete(context.Background(), del)
	h.expectCode(resp.ErrorCode, nil)
	h.expectFetched("offset-delete", true, map[int32]fetched{0: committedAt(-1), 1: unstable})
	h.endTxn("offset-delete", 5, true)
	h.expectFetched("offset-delete", true, map[int32]fetched{0: committedAt(-1), 1: committedAt(3)})
	h.restart("offset-delete").expectFetched("offset-delete", true, map[int32]fetched{0: committedAt(-1), 1: committedAt(3)})

	// DeleteGroups removes an empty group with pending offsets entirely.
	if err := h.txnCommit("deleted", txnCommit{producerID: 6, offsets: map[int32]int64{0: 4}}); err != nil {
		t.Fatal(err)
	}
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{"deleted"}
	h.expectCode(h.c.DeleteGroups(context.Background(), dg).Groups[0].ErrorCode, nil)
	h.endTxn("deleted", 6, true)
	h.expectFetched("deleted", true, map[int32]fetched{0: committedAt(-1)})
	r := h.restart("deleted")
	r.expectFetched("deleted", true, map[int32]fetched{0: committedAt(-1)})
	if s := r.state("deleted"); s != stateDead {
		t.Fatalf("deleted group reloads as %s", s)
	}
}

// Transactions of many producers commit and complete concurrently on one
// group (run with -race); each producer's offset ends up committed.
func TestConcurrentTransactions(t *testing.T) {
	h := newHarness(t, nil)
	const g, producers = "busy", 8
	var wg sync.WaitGroup
	for pid := range int64(producers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range int64(20) {
				if err := h.txnCommit(g, txnCommit{producerID: pid, offsets: map[int32]int64{int32(pid): round}}); err != nil {
					t.Error(err)
					return
				}
				h.fetchT1(g, true, int32(pid))
				h.endTxn(g, pid, round%2 == 1)
			}
		}()
	}
	wg.Wait()
	want := make(map[int32]fetched)
	for pid := range int32(producers) {
		want[pid] = committedAt(19)
	}
	h.expectFetched(g, true, want)
	h.restart(g).expectFetched(g, true, want)
}
