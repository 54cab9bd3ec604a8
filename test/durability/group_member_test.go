package durability_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// groupMember is one consumer in a group: it polls, processes each record into the
// ledger, then commits synchronously before allowing a rebalance, so a record is
// committed only after it was processed and partitions change hands only between polls.
type groupMember struct {
	name   string
	t      *testing.T
	cl     *kgo.Client
	ledger *groupLedger
	exited chan struct{}

	stopPolling context.CancelFunc // ends the loop once the current poll is processed and committed
	crashing    atomic.Bool        // exit after the next records are processed, never commit again
	closeOnce   sync.Once

	mu            sync.Mutex
	owned         map[int32]bool
	assignments   int
	failedCommits int
}

func startGroupMember(t *testing.T, addr, group, topic, name string, ledger *groupLedger) *groupMember {
	t.Helper()
	m := &groupMember{name: name, t: t, ledger: ledger, exited: make(chan struct{}), owned: map[int32]bool{}}
	m.cl = testbroker.OpenClient(t, addr,
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.HeartbeatInterval(200*time.Millisecond), // learn of rebalances quickly
		kgo.OnPartitionsAssigned(m.assigned),
		kgo.OnPartitionsRevoked(m.revoked),
		kgo.OnPartitionsLost(m.lost),
	)
	t.Cleanup(m.close)
	ctx, cancel := context.WithCancel(context.Background())
	m.stopPolling = cancel
	go m.run(ctx)
	return m
}

func (m *groupMember) run(ctx context.Context) {
	defer close(m.exited)
	for {
		fetches := m.cl.PollFetches(ctx)
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
				m.t.Errorf("%s: fetching %s[%d]: %v", m.name, topic, p, err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) { m.ledger.process(m.name, r) })
		if m.crashing.Load() && (fetches.NumRecords() > 0 || ctx.Err() != nil) {
			return // processed, never committed: the uncommitted tail
		}
		m.commit(context.Background())
		m.cl.AllowRebalance()
		if ctx.Err() != nil {
			return
		}
	}
}

// commit commits everything polled so far (all of it processed) and files the
// partitions the coordinator acknowledged.
func (m *groupMember) commit(ctx context.Context) {
	offsets := m.cl.UncommittedOffsets()
	if len(offsets) == 0 {
		return
	}
	m.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			m.countFailedCommit()
			m.t.Logf("%s: commit failed: %v", m.name, err)
			return
		}
		sent := map[int32]int64{}
		for _, rt := range req.Topics {
			for _, rp := range rt.Partitions {
				sent[rp.Partition] = rp.Offset
			}
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				if rp.ErrorCode != 0 {
					m.countFailedCommit()
					m.t.Logf("%s: commit of partition %d refused: error code %d", m.name, rp.Partition, rp.ErrorCode)
					continue
				}
				m.ledger.commitAcknowledged(rp.Partition, sent[rp.Partition])
			}
		}
	})
}

func (m *groupMember) countFailedCommit() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failedCommits++
}

func (m *groupMember) assigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.assignments++
	for _, ps := range parts {
		for _, p := range ps {
			m.owned[p] = true
		}
	}
}

func (m *groupMember) revoked(ctx context.Context, _ *kgo.Client, parts map[string][]int32) {
	if !m.crashing.Load() {
		m.commit(ctx)
	}
	m.disown(parts)
}

func (m *groupMember) lost(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	m.disown(parts)
}

func (m *groupMember) disown(parts map[string][]int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ps := range parts {
		for _, p := range ps {
			delete(m.owned, p)
		}
	}
}

func (m *groupMember) ownedPartitions() map[int32]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int32]bool, len(m.owned))
	for p := range m.owned {
		out[p] = true
	}
	return out
}

func (m *groupMember) counts() (assignments, failedCommits int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.assignments, m.failedCommits
}

// leave finishes the current poll's records, commits them and leaves the group.
func (m *groupMember) leave() {
	m.t.Helper()
	m.stopPolling()
	waitClosed(m.t, m.exited, 15*time.Second, m.name+" to finish its last poll")
	m.close()
}

// crash makes the member stop right after processing its next records, without
// committing them, and leave no commit behind on the way out.
func (m *groupMember) crash() { m.crashing.Store(true) }

// close leaves the group; the revoke callback commits unless the member crashed.
func (m *groupMember) close() {
	m.closeOnce.Do(func() {
		m.stopPolling()
		<-m.exited
		m.cl.AllowRebalance()
		m.cl.Close()
	})
}
