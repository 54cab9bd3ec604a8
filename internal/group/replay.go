package group

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// replay rebuilds a partition's groups from its records, in log order.
type replay struct {
	groups    map[string]*replayedGroup
	txnGroups producerGroups
	// position counts the records seen; it is the logOrder of the current
	// record.
	position int64
}

// replayedGroup is the latest durable state of one group during replay.
type replayedGroup struct {
	metadata *kmsg.GroupMetadataValue // nil: none, or deleted
	offsets  offsetState
}

func newReplay() *replay {
	return &replay{groups: make(map[string]*replayedGroup), txnGroups: make(producerGroups)}
}

func (rp *replay) group(id string) *replayedGroup {
	rg := rp.groups[id]
	if rg == nil {
		rg = &replayedGroup{offsets: newOffsetState()}
		rp.groups[id] = rg
	}
	return rg
}

// completeTxn applies a transaction marker to the groups the producer has
// pending offsets in.
func (rp *replay) completeTxn(producerID int64, commit bool) {
	for id := range rp.txnGroups.take(producerID) {
		if rg := rp.groups[id]; rg != nil {
			rg.offsets.complete(producerID, commit)
		}
	}
}

func (rp *replay) apply(r Record) error {
	rp.position++
	if r.Marker != nil {
		rp.completeTxn(r.ProducerID, r.Marker.Commit)
		return nil
	}
	kind, err := kindOf(r.Key)
	if err != nil {
		return err
	}
	switch kind {
	case kindOffset:
		var key kmsg.OffsetCommitKey
		if err := key.ReadFrom(r.Key); err != nil {
			return decodeError("offset commit key", err)
		}
		rg := rp.group(key.Group)
		tp := topicPartition{key.Topic, key.Partition}
		if r.Value == nil {
			rg.offsets.remove(tp)
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
		o := committedOffset{
			offset:      v.Offset,
			leaderEpoch: epoch,
			metadata:    v.Metadata,
			committedAt: time.UnixMilli(v.CommitTimestamp),
			logOrder:    rp.position,
		}
		if r.Transactional {
			rg.offsets.stage(r.ProducerID, tp, o)
			rp.txnGroups.add(r.ProducerID, key.Group)
		} else {
			rg.offsets.commit(tp, o)
		}
	case kindGroup:
		var key kmsg.GroupMetadataKey
		if err := key.ReadFrom(r.Key); err != nil {
			return decodeError("group metadata key", err)
		}
		rg := rp.group(key.Group)
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

// build turns replayed records into a live group. lastLogOrder is the
// replay's last position, after which the group's new records come.
func (rg *replayedGroup) build(c *Coordinator, id string, partition int32, now time.Time, lastLogOrder int64) *group {
	g := newGroup(c, id, partition, now)
	g.offsets = rg.offsets
	g.lastLogOrder = lastLogOrder
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
