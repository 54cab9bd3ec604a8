package group

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit (key 8, v0-v9) stores committed offsets once they are durable.
// Members commit with their generation and member id; a commit with
// generation -1, no member id and no instance id is a "simple" commit,
// allowed only while the group has no members (and it creates the group).
// Commits are refused with REBALANCE_IN_PROGRESS while the group awaits its
// assignment, and accepted while it prepares a rebalance, as Kafka does.
// Topic ids (v10+) are not resolved here: the broker must not advertise v10.
// Per-commit retention (v1 timestamps, v2-v4 retention time) is ignored:
// offsets expire as KIP-211 describes.
func (c *Coordinator) OffsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := kmsg.NewPtrOffsetCommitResponse()
	resp.Version = req.Version
	errs := c.offsetCommit(ctx, req)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = code(errs(topicPartition{t.Topic, p.Partition}))
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// offsetCommit returns the error for each committed partition.
func (c *Coordinator) offsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) func(topicPartition) *kerr.Error {
	if req.Version >= 10 {
		return everyPartition(kerr.UnsupportedVersion)
	}
	generation, memberID, instanceID := req.Generation, req.MemberID, ""
	if req.Version == 0 {
		generation, memberID = -1, ""
	}
	if req.InstanceID != nil {
		instanceID = *req.InstanceID
	}

	// A group that does not exist accepts simple commits only: anything
	// with a generation comes from a generation that is gone.
	g, err := c.lookup(req.Group, generation < 0)
	if err != nil {
		return everyPartition(err)
	}
	if g == nil {
		return everyPartition(kerr.IllegalGeneration)
	}
	g.mu.Lock()
	defer g.mu.Unlock()

	now := c.cfg.Now()
	g.fireDeadlines(now)
	if err := g.validateCommit(generation, memberID, instanceID, false); err != nil {
		return everyPartition(err)
	}
	switch g.state {
	case stateCompletingRebalance:
		// The member has its JoinGroup answer but not its assignment yet.
		return everyPartition(kerr.RebalanceInProgress)
	case stateStable, statePreparingRebalance:
		if m := g.members[memberID]; m != nil {
			m.refreshSession(now)
		}
	}

	var parts []commitPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			parts = append(parts, commitPartition{topicPartition{t.Topic, p.Partition}, p.Offset, p.LeaderEpoch, p.Metadata})
		}
	}
	errs, commits, recs := c.offsetRecords(g, parts, req.Version >= 6, now)
	if len(recs) > 0 {
		if err := c.store.Append(ctx, g.partition, recs); err != nil {
			c.log.Warn("failed to persist offsets", "group", g.id, "err", err)
			storeErr := offsetStoreError(err)
			for tp := range commits {
				errs[tp] = storeErr
			}
			g.forgetIfUnused()
			return errsByPartition(errs)
		}
	}
	if len(commits) > 0 {
		order := g.nextLogOrder()
		for tp, o := range commits {
			o.logOrder = order
			g.offsets.commit(tp, o)
		}
	}
	return errsByPartition(errs)
}

// commitPartition is one partition of an OffsetCommit or a TxnOffsetCommit request.
type commitPartition struct {
	tp          topicPartition
	offset      int64
	leaderEpoch int32
	metadata    *string
}

// offsetRecords turns the partitions of a commit into offsets and the records that
// persist them; a partition whose metadata is too large gets its error instead. Leader
// epochs are kept only from request versions that carry them.
func (c *Coordinator) offsetRecords(g *group, parts []commitPartition, withEpochs bool, now time.Time) (map[topicPartition]*kerr.Error, map[topicPartition]committedOffset, []Record) {
	errs := make(map[topicPartition]*kerr.Error)
	offsets := make(map[topicPartition]committedOffset)
	var recs []Record
	for _, p := range parts {
		o := committedOffset{offset: p.offset, leaderEpoch: p.leaderEpoch, committedAt: now}
		if !withEpochs {
			o.leaderEpoch = -1
		}
		if p.metadata != nil {
			o.metadata = *p.metadata
		}
		if len(o.metadata) > c.cfg.MaxOffsetMetadataBytes {
			errs[p.tp] = kerr.OffsetMetadataTooLarge
			continue
		}
		offsets[p.tp] = o
		recs = append(recs, offsetRecord(g.id, p.tp, o))
	}
	return errs, offsets, recs
}

// everyPartition answers every partition of a commit with err.
func everyPartition(err *kerr.Error) func(topicPartition) *kerr.Error {
	return func(topicPartition) *kerr.Error { return err }
}

// errsByPartition answers each partition of a commit with its error in errs, if any.
func errsByPartition(errs map[topicPartition]*kerr.Error) func(topicPartition) *kerr.Error {
	return func(tp topicPartition) *kerr.Error { return errs[tp] }
}

// validateCommit is Kafka's validateOffsetCommit, for OffsetCommit and
// (transactional) TxnOffsetCommit.
func (g *group) validateCommit(generation int32, memberID, instanceID string, transactional bool) *kerr.Error {
	switch {
	case g.is(stateDead):
		return kerr.CoordinatorNotAvailable
	case generation < 0 && g.is(stateEmpty):
		// A client without group management (or an admin) commits to a
		// group nobody is a member of: whatever member id it sends.
	case generation >= 0 || memberID != "" || instanceID != "":
		if err := g.validateMember(memberID, instanceID); err != nil {
			return err
		}
		if generation != g.generation {
			return kerr.IllegalGeneration
		}
	case !transactional && !g.is(stateEmpty):
		// Only members may commit to a group that has members. Not so for
		// TxnOffsetCommit: before v3 it could not say who sent it.
		return kerr.UnknownMemberID
	}
	return nil
}

// forgetIfUnused drops a group that a failed simple commit created and that
// holds nothing, so it does not linger in ListGroups.
func (g *group) forgetIfUnused() {
	if g.is(stateEmpty) && len(g.members) == 0 && g.offsets.empty() && g.generation == 0 && g.protocolType == "" {
		g.transition(stateDead, g.c.cfg.Now())
		g.c.forget(g)
	}
}

// OffsetFetch (key 9, v0-v9) returns committed offsets: for the one group of
// v0-v7 or each group of v8+. Null topics (v2+) mean every committed
// partition. Partitions without a commit, and groups that do not exist,
// answer offset -1 with no error, as Kafka does.
//
// Offsets of open transactions are never returned. With RequireStable (v7+)
// a partition that has one answers UNSTABLE_OFFSET_COMMIT (offset -1), so
// that a KIP-447 consumer waits for the transaction to end instead of
// starting from the offset it is about to replace; without it the last
// committed offset is returned.
func (c *Coordinator) OffsetFetch(_ context.Context, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := kmsg.NewPtrOffsetFetchResponse()
	resp.Version = req.Version
	requireStable := req.Version >= 7 && req.RequireStable
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			var wanted map[string][]int32
			if rg.Topics != nil {
				wanted = make(map[string][]int32)
				for _, t := range rg.Topics {
					wanted[t.Topic] = append(wanted[t.Topic], t.Partitions...)
				}
			}
			fetched, err := c.fetchOffsets(rg.Group, wanted, requireStable, topicOrder(rg.Topics, func(t kmsg.OffsetFetchRequestGroupTopic) string { return t.Topic }))
			out := kmsg.NewOffsetFetchResponseGroup()
			out.Group = rg.Group
			out.ErrorCode = code(err)
			for _, ft := range fetched {
				rt := kmsg.NewOffsetFetchResponseGroupTopic()
				rt.Topic = ft.topic
				for _, fp := range ft.partitions {
					rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = fp.partition, fp.offset, fp.leaderEpoch, fp.metadata
					rp.ErrorCode = code(fp.err)
					rt.Partitions = append(rt.Partitions, rp)
				}
				out.Topics = append(out.Topics, rt)
			}
			resp.Groups = append(resp.Groups, out)
		}
		return resp
	}

	var wanted map[string][]int32
	if req.Topics != nil || req.Version < 2 {
		wanted = make(map[string][]int32)
		for _, t := range req.Topics {
			wanted[t.Topic] = append(wanted[t.Topic], t.Partitions...)
		}
	}
	fetched, err := c.fetchOffsets(req.Group, wanted, requireStable, topicOrder(req.Topics, func(t kmsg.OffsetFetchRequestTopic) string { return t.Topic }))
	if err != nil {
		if req.Version >= 2 {
			resp.ErrorCode = err.Code
			return resp
		}
		// v0-v1 have no top-level error: each requested partition gets it.
		fetched = nil
		for _, t := range req.Topics {
			ft := fetchedTopic{topic: t.Topic}
			for _, p := range t.Partitions {
				ft.partitions = append(ft.partitions, fetchedPartition{partition: p, offset: -1, leaderEpoch: -1, metadata: stringPtr(""), err: err})
			}
			fetched = append(fetched, ft)
		}
	}
	for _, ft := range fetched {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = ft.topic
		for _, fp := range ft.partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = fp.partition, fp.offset, fp.leaderEpoch, fp.metadata
			rp.ErrorCode = code(fp.err)
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

type fetchedTopic struct {
	topic      string
	partitions []fetchedPartition
}

type fetchedPartition struct {
	partition   int32
	offset      int64
	leaderEpoch int32
	metadata    *string
	err         *kerr.Error
}

// topicOrder lists requested topics once each, in request order, so that
// the answer follows the request.
func topicOrder[T any](topics []T, name func(T) string) []string {
	var order []string
	seen := make(map[string]bool)
	for _, t := range topics {
		if n := name(t); !seen[n] {
			seen[n] = true
			order = append(order, n)
		}
	}
	return order
}

// fetchOffsets reads a group's offsets. wanted nil means all committed
// partitions; order is the requested topic order. With requireStable a
// partition with a pending transactional offset gets UNSTABLE_OFFSET_COMMIT.
func (c *Coordinator) fetchOffsets(groupID string, wanted map[string][]int32, requireStable bool, order []string) ([]fetchedTopic, *kerr.Error) {
	g, err := c.lookup(groupID, false)
	if err != nil {
		return nil, err
	}
	committed := map[topicPartition]committedOffset{}
	unstable := map[topicPartition]bool{}
	if g != nil {
		g.mu.Lock()
		if !g.is(stateDead) {
			committed = maps.Clone(g.offsets.committed)
			if requireStable {
				for _, tp := range g.offsets.pendingPartitions() {
					unstable[tp] = true
				}
			}
		}
		g.mu.Unlock()
	}
	answer := func(tp topicPartition) fetchedPartition {
		fp := fetchedPartition{partition: tp.partition, offset: -1, leaderEpoch: -1, metadata: stringPtr("")}
		if unstable[tp] {
			fp.err = kerr.UnstableOffsetCommit
		} else if o, ok := committed[tp]; ok {
			fp.offset, fp.leaderEpoch, fp.metadata = o.offset, o.leaderEpoch, stringPtr(o.metadata)
		}
		return fp
	}

	if wanted == nil {
		// As in Kafka, "all" means all committed partitions: one with only
		// a pending offset is not listed.
		byTopic := make(map[string]*fetchedTopic)
		for tp := range committed {
			ft := byTopic[tp.topic]
			if ft == nil {
				ft = &fetchedTopic{topic: tp.topic}
				byTopic[tp.topic] = ft
				order = append(order, tp.topic)
			}
			ft.partitions = append(ft.partitions, answer(tp))
		}
		slices.Sort(order)
		out := make([]fetchedTopic, 0, len(order))
		for _, t := range order {
			ft := byTopic[t]
			slices.SortFunc(ft.partitions, func(a, b fetchedPartition) int { return int(a.partition) - int(b.partition) })
			out = append(out, *ft)
		}
		return out, nil
	}

	out := make([]fetchedTopic, 0, len(order))
	for _, t := range order {
		ft := fetchedTopic{topic: t}
		for _, p := range wanted[t] {
			ft.partitions = append(ft.partitions, answer(topicPartition{t, p}))
		}
		out = append(out, ft)
	}
	return out, nil
}
