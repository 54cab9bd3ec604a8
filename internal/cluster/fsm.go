package cluster

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// fsm is the metadata state machine, written to hashicorp/raft's FSM contract:
//
//   - Apply is deterministic (applyCommand is a pure function) and called by raft from
//     one goroutine, in log order.
//   - Snapshot is cheap: the image is immutable, so the snapshot is just the pointer.
//   - Persist, which raft runs concurrently with Apply, does the encoding and I/O.
//   - Restore replaces the image wholesale.
//
// Every new image is published to the watchers from inside Apply/Restore, so watchers
// see images strictly in log order and a proposer whose command has been applied knows
// the watchers have seen it.
type fsm struct {
	logger *slog.Logger
	image  atomic.Pointer[Image]

	// publishMu serialises publishing with Watch registration, so that a new watcher
	// sees every image exactly once: the current one at registration, then each later
	// one.
	publishMu sync.Mutex
	watchers  []func(prev, next *Image)
	// trails, unlike watchers, come and go: each collects the images published while
	// a forwarded change waits to be shown here (forward.go).
	trails map[*imageTrail]struct{}
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(logger *slog.Logger) *fsm {
	f := &fsm{logger: logger, trails: map[*imageTrail]struct{}{}}
	f.image.Store(emptyImage())
	return f
}

// Apply implements raft.FSM.
func (f *fsm) Apply(entry *raft.Log) any {
	c, err := decodeCommand(entry.Data)
	if err != nil {
		// Every node fails the same entry the same way, so the images stay equal; but a
		// newer node's command this node cannot read is a deployment error worth shouting.
		f.logger.Error("metadata log entry not applied", "index", entry.Index, "err", err)
		return applyResult{err: err}
	}
	next, result := applyCommand(f.image.Load(), entry.Index, c)
	if next != nil {
		f.publish(next)
	}
	return result
}

// Snapshot implements raft.FSM.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	return &fsmSnapshot{image: f.image.Load()}, nil
}

// Restore implements raft.FSM.
func (f *fsm) Restore(snapshot io.ReadCloser) error {
	defer snapshot.Close()
	img, err := readSnapshot(snapshot)
	if err != nil {
		return err
	}
	f.publish(img)
	return nil
}

func (f *fsm) publish(next *Image) {
	f.publishMu.Lock()
	defer f.publishMu.Unlock()
	prev := f.image.Swap(next)
	for _, w := range f.watchers {
		w(prev, next)
	}
	for t := range f.trails {
		t.add(next)
	}
}

func (f *fsm) watch(fn func(prev, next *Image)) {
	f.publishMu.Lock()
	defer f.publishMu.Unlock()
	fn(emptyImage(), f.image.Load())
	f.watchers = append(f.watchers, fn)
}

type fsmSnapshot struct{ image *Image }

// Persist implements raft.FSMSnapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := writeSnapshot(sink, s.image); err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *fsmSnapshot) Release() {}
