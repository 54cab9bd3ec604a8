package group

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	// ErrClosed is returned by Load after Close.
	ErrClosed = errors.New("group: coordinator closed")
	// ErrUnloaded is returned by Load when Unload ran while it replayed.
	ErrUnloaded = errors.New("group: partition unloaded while loading")
)

// Load takes over partition of __consumer_offsets: it replays the partition
// and then serves its groups. Until it returns, their requests get
// COORDINATOR_LOAD_IN_PROGRESS. Groups come back as Kafka reloads them:
// Stable with their last persisted generation, members and assignments
// (each member's session restarts now, so members that are gone expire), or
// Empty. Load on a partition already loaded or loading is a no-op. On a
// replay error the partition is left unowned and the error returned.
// Load blocks for the replay; the broker may call it on its own goroutine.
func (c *Coordinator) Load(partition int32) error {
	if partition < 0 || partition >= c.cfg.NumPartitions {
		return fmt.Errorf("group: partition %d outside __consumer_offsets' %d partitions", partition, c.cfg.NumPartitions)
	}
	ps := &partitionState{loading: true}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return ErrClosed
	case c.partitions[partition] != nil:
		c.mu.Unlock()
		return nil
	}
	c.partitions[partition] = ps
	c.mu.Unlock()

	start := c.cfg.Now()
	replayed := make(map[string]*replayedGroup)
	err := c.store.Replay(partition, func(r Record) error { return replayRecord(replayed, r) })

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.partitions[partition] != ps {
		return ErrUnloaded
	}
	if err != nil {
		delete(c.partitions, partition)
		return fmt.Errorf("group: loading __consumer_offsets partition %d: %w", partition, err)
	}
	now := c.cfg.Now()
	for id, rg := range replayed {
		if rg.metadata == nil && len(rg.offsets) == 0 {
			continue // deleted
		}
		c.groups[id] = rg.build(c, id, partition, now)
	}
	ps.loading = false
	c.log.Info("loaded __consumer_offsets partition", "partition", partition,
		"groups", len(replayed), "took", now.Sub(start))
	return nil
}

// Unload gives up partition: its groups are dropped, requests parked in
// JoinGroup or SyncGroup get NOT_COORDINATOR, and later requests
// NOT_COORDINATOR. A Load in progress for it is abandoned.
func (c *Coordinator) Unload(partition int32) {
	c.mu.Lock()
	delete(c.partitions, partition)
	var unloaded []*group
	for id, g := range c.groups {
		if g.partition == partition {
			unloaded = append(unloaded, g)
			delete(c.groups, id)
		}
	}
	c.mu.Unlock()

	now := c.cfg.Now()
	for _, g := range unloaded {
		g.mu.Lock()
		for _, m := range g.members {
			g.answerJoin(m, g.joinError(m.id, kerr.NotCoordinator))
			g.answerSync(m, g.syncError(kerr.NotCoordinator))
		}
		g.transition(stateDead, now)
		g.mu.Unlock()
	}
	if len(unloaded) > 0 {
		c.log.Info("unloaded __consumer_offsets partition", "partition", partition, "groups", len(unloaded))
	}
}

// replayedGroup is the latest durable state of one group during replay.
type replayedGroup struct {
	metadata *kmsg.GroupMetadataValue // nil: none, or deleted
	offsets  map[topicPartition]committedOffset
}

func replayRecord(replayed map[string]*replayedGroup, r Record) error {
	kind, err := kindOf(r.Key)
	if err != nil {
		return err
	}
	get := func(id string) *replayedGroup {
		rg := replayed[id]
		if rg == nil {
			rg = &replayedGroup{offsets: make(map[topicPartition]committedOffset)}
			replayed[id] = rg
		}
		return rg
	}
	switch kind {
	case kindOffset:
		var key kmsg.OffsetCommitKey
		if err := key.ReadFrom(r.Key); err != nil {
			return decodeError("offset commit key", err)
		}
		rg := get(key.Group)
		tp := topicPartition{key.Topic, key.Partition}
		if r.Value == nil {
			delete(rg.offsets, tp)
			return nil
		}
		var v kmsg.OffsetCommitValue
		if err := v.ReadFrom(r.Value); err != nil {
			return decodeError("offset commit value", err)
		}
		epoch := v.LeaderEpoch
		if v.Version < 3 {
			epoch = -1
		}
		rg.offsets[tp] = committedOffset{
			offset:      v.Offset,
			leaderEpoch: epoch,
			metadata:    v.Metadata,
			committedAt: time.UnixMilli(v.CommitTimestamp),
		}
	case kindGroup:
		var key kmsg.GroupMetadataKey
		if err := key.ReadFrom(r.Key); err != nil {
			return decodeError("group metadata key", err)
		}
		rg := get(key.Group)
		if r.Value == nil {
			rg.metadata = nil
			return nil
		}
		v := new(kmsg.GroupMetadataValue)
		if err := v.ReadFrom(r.Value); err != nil {
			return decodeError("group metadata value", err)
		}
		// The decoded slices alias r, which Replay may reuse.
		for i := range v.Members {
			v.Members[i].Subscription = bytes.Clone(v.Members[i].Subscription)
			v.Members[i].Assignment = bytes.Clone(v.Members[i].Assignment)
		}
		rg.metadata = v
	}
	return nil
}

// build turns replayed records into a live group.
func (rg *replayedGroup) build(c *Coordinator, id string, partition int32, now time.Time) *group {
	g := newGroup(c, id, partition, now)
	g.offsets = rg.offsets
	v := rg.metadata
	if v == nil {
		return g // offsets only: an Empty group
	}
	g.protocolType = v.ProtocolType
	g.generation = v.Generation
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	if v.Leader != nil {
		g.leader = *v.Leader
	}
	if v.Version >= 2 && v.CurrentStateTimestamp >= 0 {
		g.stateSince = time.UnixMilli(v.CurrentStateTimestamp)
	}
	for _, vm := range v.Members {
		m := &member{
			id:               vm.MemberID,
			clientID:         vm.ClientID,
			clientHost:       vm.ClientHost,
			sessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
			rebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
			protocolType:     v.ProtocolType,
			protocols:        []protocol{{name: g.protocol, metadata: vm.Subscription}},
			assignment:       vm.Assignment,
		}
		if v.Version < 1 || vm.RebalanceTimeoutMillis < 0 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		if vm.InstanceID != nil && *vm.InstanceID != "" {
			m.instanceID = *vm.InstanceID
			g.staticMembers[m.instanceID] = m.id
		}
		m.refreshSession(now)
		g.members[m.id] = m
	}
	if len(g.members) > 0 {
		g.state = stateStable
		if _, ok := g.members[g.leader]; !ok {
			g.leader = g.sortedMembers()[0].id
		}
	}
	return g
}
