package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"sync"

	"github.com/waybill/waybill/internal/lab"
)

// sandboxNodes is the size of the sandbox cluster: the least that shows a leader, its
// followers and an election among the survivors.
const sandboxNodes = 3

// sandbox is the simulator's cluster: three in-process Waybill nodes on in-memory disks
// (lab.NewInProcessCluster), started the first time they are needed and closed with the
// console. It holds no user data; its topics are the simulator's.
//
// It remembers what the console did to each node (killed, cut off, slowed), which the
// fault layer does not report and the replica lanes show.
type sandbox struct {
	dir string
	log *slog.Logger

	// opMu serialises the node operations, some of which (a restart) take a while, so
	// that mu is never held across them.
	opMu sync.Mutex

	mu     sync.Mutex
	target *lab.ReplicatedTarget
	flags  map[int32]nodeFlags
	closed bool
}

// nodeFlags is what the console did to a node and has not undone.
type nodeFlags struct {
	Down, Isolated, Slow bool
}

var errClosed = errors.New("console: closed")

func newSandbox(dir string, log *slog.Logger) *sandbox {
	return &sandbox{dir: dir, log: log, flags: map[int32]nodeFlags{}}
}

// get returns the sandbox, starting it if needed. A failed start is retried at the next
// call.
func (s *sandbox) get() (*lab.ReplicatedTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.target != nil {
		return s.target, nil
	}
	t, err := lab.NewInProcessCluster(lab.ClusterOptions{Dir: filepath.Join(s.dir, "sandbox"),
		Nodes: sandboxNodes, Logger: quietLogger(s.log)})
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox cluster: %w", err)
	}
	s.log.Info("console: sandbox cluster started", "bootstrap", t.Bootstrap())
	s.target = t
	return t, nil
}

// running returns the sandbox if it was started, without starting it.
func (s *sandbox) running() *lab.ReplicatedTarget {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.target
}

// nodeFlags returns what the console did to each node.
func (s *sandbox) nodeFlags() map[int32]nodeFlags {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.flags)
}

// act runs op on node id and records what it left the node as.
func (s *sandbox) act(id int32, op func(*lab.ReplicatedTarget) error, set func(*nodeFlags)) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	t, err := s.get()
	if err != nil {
		return err
	}
	if err := op(t); err != nil {
		return err
	}
	s.setFlags(id, set)
	return nil
}

func (s *sandbox) setFlags(id int32, set func(*nodeFlags)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flags[id]
	set(&f)
	s.flags[id] = f
}

// healed is what Heal leaves a node as.
func healed(f *nodeFlags) { f.Isolated, f.Slow = false, false }

// kill crashes node id; it stays down until start. A killed node is also cut off (the
// fault layer isolates it), which start undoes.
func (s *sandbox) kill(id int32) error {
	return s.act(id, func(t *lab.ReplicatedTarget) error {
		if err := s.releaseSlow(t, id); err != nil {
			return err
		}
		return t.Kill(id)
	}, func(f *nodeFlags) { *f = nodeFlags{Down: true} })
}

// releaseSlow heals those of ids that are slowed: a replication fetch held back keeps
// the halting broker that sent it waiting for as long as it is held.
func (s *sandbox) releaseSlow(t *lab.ReplicatedTarget, ids ...int32) error {
	flags := s.nodeFlags()
	for _, id := range ids {
		if !flags[id].Slow {
			continue
		}
		if err := t.Heal(id); err != nil {
			return err
		}
		s.setFlags(id, healed)
	}
	return nil
}

// start restarts a killed node on what it had written, healed.
func (s *sandbox) start(id int32) error {
	return s.act(id, func(t *lab.ReplicatedTarget) error { return t.Start(id) },
		func(f *nodeFlags) { *f = nodeFlags{} })
}

func (s *sandbox) isolate(id int32) error {
	return s.act(id, func(t *lab.ReplicatedTarget) error { return t.Isolate(id) },
		func(f *nodeFlags) { f.Isolated = true })
}

func (s *sandbox) slow(id int32) error {
	return s.act(id, func(t *lab.ReplicatedTarget) error { return t.Slow(id, slowDelay) },
		func(f *nodeFlags) { f.Slow = true })
}

func (s *sandbox) heal(id int32) error {
	return s.act(id, func(t *lab.ReplicatedTarget) error { return t.Heal(id) }, healed)
}

// powerLoss cuts every node's power at once; they restart on what they fsynced, healed.
func (s *sandbox) powerLoss(ctx context.Context) error {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	t, err := s.get()
	if err != nil {
		return err
	}
	if err := s.releaseSlow(t, t.Nodes()...); err != nil {
		return err
	}
	err = t.PowerLoss(ctx)
	s.mu.Lock()
	s.flags = map[int32]nodeFlags{}
	s.mu.Unlock()
	return err
}

func (s *sandbox) close() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	s.mu.Lock()
	t := s.target
	s.closed, s.target = true, nil
	s.mu.Unlock()
	if t != nil {
		_ = s.releaseSlow(t, t.Nodes()...)
		t.Close()
	}
}

// quietLogger passes on warnings and errors only: sandbox brokers create and delete
// topics all the time, which is no news in the real broker's log.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(minLevel{l.Handler(), slog.LevelWarn}).With("sandbox", true)
}

type minLevel struct {
	slog.Handler
	level slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.level && m.Handler.Enabled(ctx, l)
}
func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(as), m.level}
}
func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{m.Handler.WithGroup(name), m.level}
}
