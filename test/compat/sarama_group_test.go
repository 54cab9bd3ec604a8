package compat_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/IBM/sarama"
)

// TestSaramaConsumerGroupResumesFromCommittedOffsets: two group members split a
// 3-partition topic and read everything an idempotent acks=all producer sent, commit and
// leave; a new member of the same group then reads only what was produced afterwards.
func TestSaramaConsumerGroupResumesFromCommittedOffsets(t *testing.T) {
	t.Parallel()
	for _, v := range saramaVersions {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			const topic, group, partitions = "sarama-group", "sarama-group-g", 3
			ctx := testContext(t)
			b := startBroker(t)
			createTopic(ctx, t, b.Addr(), topic, partitions)
			cfg := newSaramaConfig(t, v.version)

			// Two members; produce only once they share one generation, so each
			// reads its own partitions and nothing is read twice.
			seen := newSaramaGroupLog()
			first := startSaramaMember(ctx, t, cfg, b.Addr(), group, topic, "first", seen)
			second := startSaramaMember(ctx, t, cfg, b.Addr(), group, topic, "second", seen)
			if err := seen.waitUntil(ctx, "both members assigned in one generation", func() bool {
				return seen.balanced(partitions, "first", "second")
			}); err != nil {
				t.Fatal(err)
			}

			zero := map[int32]int64{0: 0, 1: 0, 2: 0}
			keys, values := keyedValues("before", 30)
			sent := saramaProduce(t, cfg, b.Addr(), topic, partitions, keys, values)
			assertAckedOffsetsContiguous(t, sent, zero, endOffsets(ctx, t, b.Addr(), topic))

			if err := seen.waitUntil(ctx, "30 records read by the group", func() bool {
				return len(seen.records) >= len(sent)
			}); err != nil {
				t.Fatal(err)
			}
			first.close(t)
			second.close(t)

			got := seen.all()
			assertSameKeyValues(t, got, keys, values)
			assertContiguous(t, got, zero)
			seen.assertEachMemberReadOnlyItsClaims(t, "first", "second")
			end := endOffsets(ctx, t, b.Addr(), topic)
			assertOffsetsEqual(t, "committed offsets after the members left", committedOffsets(ctx, t, b.Addr(), group, topic), end)

			// A new member resumes where the group left off.
			keys, values = keyedValues("after", 12)
			sent = saramaProduce(t, cfg, b.Addr(), topic, partitions, keys, values)
			assertAckedOffsetsContiguous(t, sent, end, endOffsets(ctx, t, b.Addr(), topic))
			resumed := newSaramaGroupLog()
			third := startSaramaMember(ctx, t, cfg, b.Addr(), group, topic, "third", resumed)
			if err := resumed.waitUntil(ctx, "12 new records read by the new member", func() bool {
				return len(resumed.records) >= len(sent)
			}); err != nil {
				t.Fatal(err)
			}
			third.close(t)
			got = resumed.all()
			assertSameKeyValues(t, got, keys, values)
			assertContiguous(t, got, end)
			assertOffsetsEqual(t, "committed offsets after the new member left", committedOffsets(ctx, t, b.Addr(), group, topic), endOffsets(ctx, t, b.Addr(), topic))
		})
	}
}

// saramaGroupLog records, across members, every record read and each member's latest
// generation and claims.
type saramaGroupLog struct {
	*progress
	records    []record
	readBy     map[string][]record // member name → records
	generation map[string]int32
	claims     map[string][]int32
}

func newSaramaGroupLog() *saramaGroupLog {
	return &saramaGroupLog{
		progress:   newProgress(),
		readBy:     map[string][]record{},
		generation: map[string]int32{},
		claims:     map[string][]int32{},
	}
}

func (l *saramaGroupLog) all() []record {
	var out []record
	l.read(func() { out = append(out, l.records...) })
	return out
}

// balanced (called under the lock) is true when the members are in the same
// generation and their claims cover every partition exactly once.
func (l *saramaGroupLog) balanced(partitions int32, members ...string) bool {
	owner := map[int32]bool{}
	for _, m := range members {
		if l.generation[m] == 0 || l.generation[m] != l.generation[members[0]] || len(l.claims[m]) == 0 {
			return false
		}
		for _, p := range l.claims[m] {
			if owner[p] {
				return false
			}
			owner[p] = true
		}
	}
	return len(owner) == int(partitions)
}

func (l *saramaGroupLog) assertEachMemberReadOnlyItsClaims(t *testing.T, members ...string) {
	t.Helper()
	l.read(func() {
		for _, m := range members {
			claimed := map[int32]bool{}
			for _, p := range l.claims[m] {
				claimed[p] = true
			}
			if len(l.readBy[m]) == 0 {
				t.Errorf("member %s read nothing (claims %v)", m, l.claims[m])
			}
			for _, r := range l.readBy[m] {
				if !claimed[r.Partition] {
					t.Errorf("member %s read partition %d outside its claims %v", m, r.Partition, l.claims[m])
				}
			}
		}
	})
}

// saramaMember is one ConsumerGroup consuming in a loop until closed.
type saramaMember struct {
	name   string
	group  sarama.ConsumerGroup
	cancel context.CancelFunc
	done   sync.WaitGroup
}

func startSaramaMember(ctx context.Context, t *testing.T, cfg *sarama.Config, addr, groupID, topic, name string, log *saramaGroupLog) *saramaMember {
	t.Helper()
	group, err := sarama.NewConsumerGroup([]string{addr}, groupID, cfg)
	if err != nil {
		t.Fatalf("member %s: sarama.NewConsumerGroup: %v", name, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	m := &saramaMember{name: name, group: group, cancel: cancel}
	handler := &saramaHandler{member: name, topic: topic, log: log}
	m.done.Add(2)
	go func() {
		defer m.done.Done()
		// Consume returns at every rebalance; call it again until the member closes.
		for ctx.Err() == nil {
			err := group.Consume(ctx, []string{topic}, handler)
			switch {
			case errors.Is(err, sarama.ErrClosedConsumerGroup) || ctx.Err() != nil:
				return
			case err != nil:
				t.Errorf("member %s: Consume: %v", name, err)
				return
			}
		}
	}()
	go func() {
		defer m.done.Done()
		for err := range group.Errors() {
			t.Errorf("member %s: consumer group error: %v", name, err)
		}
	}()
	t.Cleanup(func() { m.close(t) })
	return m
}

// close ends the session (whose Cleanup commits the marked offsets), leaves the group
// and waits for the member's goroutines.
func (m *saramaMember) close(t *testing.T) {
	t.Helper()
	if m.group == nil {
		return
	}
	if err := m.group.Close(); err != nil {
		t.Errorf("member %s: Close: %v", m.name, err)
	}
	m.cancel()
	m.done.Wait()
	m.group = nil
}

type saramaHandler struct {
	member, topic string
	log           *saramaGroupLog
}

func (h *saramaHandler) Setup(sess sarama.ConsumerGroupSession) error {
	claims := append([]int32(nil), sess.Claims()[h.topic]...)
	sort.Slice(claims, func(i, j int) bool { return claims[i] < claims[j] })
	h.log.update(func() {
		h.log.generation[h.member] = sess.GenerationID()
		h.log.claims[h.member] = claims
	})
	return nil
}

// Cleanup commits what this session marked, synchronously, before the member leaves
// or rejoins.
func (h *saramaHandler) Cleanup(sess sarama.ConsumerGroupSession) error {
	sess.Commit()
	return nil
}

func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for msg := range claim.Messages() {
		r := record{Partition: msg.Partition, Offset: msg.Offset, Key: string(msg.Key), Value: string(msg.Value)}
		if msg.Topic != h.topic {
			return fmt.Errorf("message from unexpected topic %q", msg.Topic)
		}
		h.log.update(func() {
			h.log.records = append(h.log.records, r)
			h.log.readBy[h.member] = append(h.log.readBy[h.member], r)
		})
		sess.MarkMessage(msg, "")
	}
	return nil
}
