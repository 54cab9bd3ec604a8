package console

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// SimState is the simulator as a page that just loaded needs it.
type SimState struct {
	Session  int         `json:"session"` // 0 before the first run
	Topic    string      `json:"topic,omitempty"`
	Settings SimSettings `json:"settings"`
	Tally    Tally       `json:"tally"`
	Armed    []string    `json:"armed"` // faults waiting for their moment
}

// SendRequest is the body of POST /api/sim/send.
type SendRequest struct {
	// Settings, if set and different from the current run's, start a fresh run first.
	Settings *SimSettings `json:"settings,omitempty"`
	Count    int          `json:"count"` // values to send, 1 to 500
	// PaceMillis sends the values one at a time this far apart (0: all at once), so that
	// a fault can be aimed between them.
	PaceMillis int `json:"pace_ms,omitempty"`
}

// maxSend bounds one send.
const maxSend = 500

// simulator owns the current run; a reset or a change of settings replaces it.
type simulator struct {
	ctx     context.Context
	sandbox *sandbox
	hub     *hub
	log     *slog.Logger
	bg      sync.WaitGroup // faults that take a while (a broker restart)

	mu     sync.Mutex // serialises resets; guards the fields below
	sess   *session
	nextID int
	closed bool
}

func newSimulator(ctx context.Context, sb *sandbox, h *hub, log *slog.Logger) *simulator {
	return &simulator{ctx: ctx, sandbox: sb, hub: h, log: log}
}

// current returns the run with settings want (nil: any), starting a fresh one if there
// is none, if want differs from it, or if fresh is set.
func (s *simulator) current(want *SimSettings, fresh bool) (*session, error) {
	settings := defaultSettings
	if want != nil {
		var err error
		if settings, err = want.normalize(); err != nil {
			return nil, badRequest{err}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if s.sess != nil && !fresh && (want == nil || s.sess.settings == settings) {
		return s.sess, nil
	}
	if want == nil && s.sess != nil {
		settings = s.sess.settings
	}
	target, err := s.sandbox.get()
	if err != nil {
		return nil, err
	}
	// A fresh run starts on a whole cluster, whatever the last one left down or cut off;
	// the last run's clients then end against nodes that answer.
	restored, err := s.sandbox.restore(s.ctx)
	if s.sess != nil {
		s.sess.close()
		s.sess = nil
	}
	if err != nil {
		return nil, err
	}
	s.nextID++
	sess, err := newSession(s.ctx, s.nextID, settings, s.sandbox, target, s.hub, s.log)
	if err != nil {
		return nil, err
	}
	s.sess = sess
	e := newEvent("reset", sess.id)
	e.Settings, e.Topic = &settings, sess.topic
	e.Message = "fresh run on topic " + sess.topic + ": " + settings.String()
	s.hub.publish(e)
	if len(restored) > 0 {
		sess.notice("for the fresh run: " + strings.Join(restored, ", "))
	}
	return sess, nil
}

// state is the current run's, or the defaults before the first.
func (s *simulator) state() SimState {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return SimState{Settings: defaultSettings, Armed: []string{}}
	}
	return sess.state()
}

// replicas is the current run's view of its partition on every node; before the first
// run, the nodes alone (none if the sandbox has not started).
func (s *simulator) replicas() ReplicaView {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess != nil {
		return sess.readReplicas()
	}
	if t := s.sandbox.running(); t != nil {
		return buildView(t.Cluster(), s.sandbox.nodeFlags(), 0, "")
	}
	return emptyView(0, "")
}

// send sends values as req says.
func (s *simulator) send(req SendRequest) (SimState, error) {
	if req.Count < 1 || req.Count > maxSend {
		return SimState{}, badRequest{fmt.Errorf("count must be between 1 and %d", maxSend)}
	}
	sess, err := s.current(req.Settings, false)
	if err != nil {
		return SimState{}, err
	}
	if req.PaceMillis > 0 && req.Count > 1 {
		sess.sendPaced(req.Count, time.Duration(req.PaceMillis)*time.Millisecond)
	} else if err := sess.send(req.Count); err != nil {
		return SimState{}, err
	}
	return sess.state(), nil
}

func (s *simulator) close() {
	s.mu.Lock()
	s.closed = true
	sess := s.sess
	s.sess = nil
	s.mu.Unlock()
	s.bg.Wait()
	if sess != nil {
		// A node a fault left down holds the run's clients until they time out; back up,
		// it answers them and they end at once.
		s.sandbox.wake()
		sess.close()
	}
}

// badRequest is an error in what the page asked for (HTTP 400).
type badRequest struct{ error }

func (e badRequest) Unwrap() error { return e.error }
