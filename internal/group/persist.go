package group

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record key and value versions written to __consumer_offsets. They are what
// Kafka 2.3 through 4.0 write, readable by every Kafka tool.
const (
	offsetCommitKeyVersion    = 1
	groupMetadataKeyVersion   = 2
	offsetCommitValueVersion  = 3
	groupMetadataValueVersion = 3
)

// persistGroup writes the group's metadata with the given assignment per
// member (the leader's assignment while completing a rebalance, the current
// one otherwise).
func (g *group) persistGroup(ctx context.Context, assignment map[string][]byte) error {
	return g.c.store.Append(ctx, g.partition, []Record{g.metadataRecord(assignment)})
}

// persistInBackground writes the group's metadata when no request waits for
// it (a rebalance that ended with no members). Like Kafka, a failure is only
// logged: the in-memory state has already moved on, and a reload would bring
// back members whose sessions then expire.
func (g *group) persistInBackground() {
	ctx, cancel := context.WithTimeout(context.Background(), backgroundAppendTimeout)
	defer cancel()
	if err := g.persistGroup(ctx, g.currentAssignments()); err != nil {
		g.c.log.Warn("failed to persist group metadata", "group", g.id, "generation", g.generation, "err", err)
	}
}

func (g *group) currentAssignments() map[string][]byte {
	a := make(map[string][]byte, len(g.members))
	for id, m := range g.members {
		a[id] = m.assignment
	}
	return a
}

func (g *group) metadataRecord(assignment map[string][]byte) Record {
	key := kmsg.NewGroupMetadataKey()
	key.Version = groupMetadataKeyVersion
	key.Group = g.id

	v := kmsg.NewGroupMetadataValue()
	v.Version = groupMetadataValueVersion
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	v.Protocol = optionalString(g.protocol)
	v.Leader = optionalString(g.leader)
	v.CurrentStateTimestamp = g.stateSince.UnixMilli()
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID = m.id
		vm.InstanceID = optionalString(m.instanceID)
		vm.ClientID = m.clientID
		vm.ClientHost = m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
		vm.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
		vm.Subscription = m.metadataFor(g.protocol)
		vm.Assignment = assignment[m.id]
		v.Members = append(v.Members, vm)
	}
	return Record{Key: key.AppendTo(nil), Value: v.AppendTo(nil)}
}

func groupTombstone(groupID string) Record {
	key := kmsg.NewGroupMetadataKey()
	key.Version = groupMetadataKeyVersion
	key.Group = groupID
	return Record{Key: key.AppendTo(nil)}
}

func offsetRecord(groupID string, tp topicPartition, o committedOffset) Record {
	v := kmsg.NewOffsetCommitValue()
	v.Version = offsetCommitValueVersion
	v.Offset = o.offset
	v.LeaderEpoch = o.leaderEpoch
	v.Metadata = o.metadata
	v.CommitTimestamp = o.committedAt.UnixMilli()
	return Record{Key: offsetKey(groupID, tp), Value: v.AppendTo(nil)}
}

func offsetTombstone(groupID string, tp topicPartition) Record {
	return Record{Key: offsetKey(groupID, tp)}
}

func offsetKey(groupID string, tp topicPartition) []byte {
	key := kmsg.NewOffsetCommitKey()
	key.Version = offsetCommitKeyVersion
	key.Group = groupID
	key.Topic = tp.topic
	key.Partition = tp.partition
	return key.AppendTo(nil)
}

// recordKind tells an offset key from a group metadata key by the key's
// leading version.
type recordKind int

const (
	kindUnknown recordKind = iota
	kindOffset
	kindGroup
)

var errShortKey = errors.New("group: __consumer_offsets key shorter than its version")

func kindOf(key []byte) (recordKind, error) {
	if len(key) < 2 {
		return kindUnknown, errShortKey
	}
	switch v := int16(binary.BigEndian.Uint16(key)); v {
	case 0, 1:
		return kindOffset, nil
	case 2:
		return kindGroup, nil
	default:
		// Versions 3 and up are KIP-848 and share-group records, which a
		// classic coordinator does not read.
		return kindUnknown, nil
	}
}

// decodeError wraps a record that cannot be decoded, with where it failed.
func decodeError(what string, err error) error {
	return fmt.Errorf("group: decoding %s: %w", what, err)
}
