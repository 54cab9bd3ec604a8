package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/waybill/waybill/internal/lab"
)

// sandbox is the simulator's broker: an in-process Waybill on an in-memory disk
// (lab.NodeTarget), started the first time it is needed and closed with the console. It
// holds no user data; its topics are the simulator's.
type sandbox struct {
	dir string
	log *slog.Logger

	mu     sync.Mutex
	target *lab.NodeTarget
	closed bool
}

var errClosed = errors.New("console: closed")

func newSandbox(dir string, log *slog.Logger) *sandbox {
	return &sandbox{dir: dir, log: log}
}

// get returns the sandbox, starting it if needed. A failed start is retried at the next
// call.
func (s *sandbox) get() (*lab.NodeTarget, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.target != nil {
		return s.target, nil
	}
	t, err := lab.NewNodeTarget(filepath.Join(s.dir, "sandbox"), quietLogger(s.log))
	if err != nil {
		return nil, fmt.Errorf("starting the sandbox broker: %w", err)
	}
	s.log.Info("console: sandbox broker started", "addr", t.Bootstrap())
	s.target = t
	return t, nil
}

func (s *sandbox) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.target != nil {
		s.target.Close()
		s.target = nil
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
