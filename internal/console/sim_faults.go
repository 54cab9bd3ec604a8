package console

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
)

// FaultRequest is the body of POST /api/sim/fault.
type FaultRequest struct {
	// Fault is one of:
	//   drop-ack       drop the broker's answer to the producer's next Produce request
	//   drop-request   drop the producer's next Produce request before the broker sees it
	//   cut            cut the producer's connections now
	//   crash-broker   kill the sandbox broker as kill -9 would, and restart it
	//   power-loss     cut the sandbox broker's power: only what it fsynced survives
	//   crash-consumer crash the consumer at its next poll, before it commits
	//   crash-consumer-after-commit  the same, right after it commits
	//   disarm         forget the armed faults that have not struck
	Fault string `json:"fault"`
	// Settings, if set and different from the current run's, start a fresh run first, so
	// that a fault armed after changing the settings waits in the run the next send uses.
	Settings *SimSettings `json:"settings,omitempty"`
}

// knownFaults are the faults FaultRequest accepts.
var knownFaults = map[string]bool{
	"drop-ack": true, "drop-request": true, "cut": true, "crash-broker": true, "power-loss": true,
	"crash-consumer": true, "crash-consumer-after-commit": true, "disarm": true,
}

// fault injects or arms req.Fault in the current run.
func (s *simulator) fault(req FaultRequest) (SimState, error) {
	f := req.Fault
	if !knownFaults[f] {
		return SimState{}, badRequest{fmt.Errorf("unknown fault %q", f)}
	}
	sess, err := s.current(req.Settings, false)
	if err != nil {
		return SimState{}, err
	}
	produce := int16(kmsg.Produce)
	switch f {
	case "drop-ack":
		sess.arm(f, faults.DropResponses(produce, faults.Nth(1, 1)),
			"armed: the broker's answer to the next Produce request will be dropped on its way back")
	case "drop-request":
		sess.arm(f, faults.DropRequests(produce, faults.Nth(1, 1)),
			"armed: the next Produce request will be dropped before it reaches the broker")
	case "disarm":
		sess.disarm()
	case "cut":
		sess.net.CutAll()
		sess.faultEvent(f, "struck", "the producer's connections were cut; it reconnects and retries what was in flight")
	case "crash-broker", "power-loss":
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.restartBroker(sess, f)
		}()
	case "crash-consumer", "crash-consumer-after-commit":
		if err := sess.armConsumerCrash(f == "crash-consumer-after-commit"); err != nil {
			return SimState{}, err
		}
	}
	return sess.state(), nil
}

// restartBroker crashes the sandbox broker (or cuts its power) and waits for its restart.
func (s *simulator) restartBroker(sess *session, f string) {
	what := "killed (kill -9): everything it wrote survives in the page cache"
	restart := sess.target.Crash
	if f == "power-loss" {
		what = "lost power: only what it fsynced survives"
		restart = sess.target.PowerLoss
	}
	sess.faultEvent(f, "struck", "the broker "+what+"; restarting")
	start := time.Now()
	if err := restart(s.ctx); err != nil {
		sess.faultEvent(f, "done", "the broker failed to restart: "+err.Error())
		return
	}
	sess.faultEvent(f, "done", fmt.Sprintf("the broker is back after %s", time.Since(start).Round(time.Millisecond)))
}

// arm installs a network fault on the producer's proxy, with those already armed.
func (s *session) arm(name string, r faults.Rule, msg string) {
	s.mu.Lock()
	s.armed[name] = r
	s.applyRulesLocked()
	s.mu.Unlock()
	s.faultEvent(name, "armed", msg)
}

func (s *session) disarm() {
	s.mu.Lock()
	s.armed = map[string]faults.Rule{}
	s.applyRulesLocked()
	s.mu.Unlock()
	s.faultEvent("disarm", "disarmed", "armed network faults cleared")
}

func (s *session) applyRulesLocked() {
	rules := make([]faults.Rule, 0, len(s.armed))
	for _, name := range []string{"drop-request", "drop-ack"} {
		if r, ok := s.armed[name]; ok {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		s.net.SetRule(nil)
		return
	}
	s.net.SetRule(faults.Rules(rules...))
}

// struck is the wire watcher's report that an armed fault hit its frame: it is spent.
func (s *session) struck(name string) {
	s.mu.Lock()
	_, ok := s.armed[name]
	delete(s.armed, name)
	s.applyRulesLocked()
	s.mu.Unlock()
	if !ok {
		return
	}
	msg := "the producer's next Produce request was dropped: the broker never saw it"
	if name == "drop-ack" {
		msg = "the broker's answer was dropped: it stored the values, the producer never heard so"
	}
	s.faultEvent(name, "struck", msg)
}

// armConsumerCrash crashes the consumer at its next poll with records, then starts a new
// incarnation that resumes from the group's committed offsets.
func (s *session) armConsumerCrash(afterCommit bool) error {
	name := "crash-consumer"
	if afterCommit {
		name = "crash-consumer-after-commit"
	}
	s.mu.Lock()
	if s.crashing {
		s.mu.Unlock()
		return badRequest{fmt.Errorf("a consumer crash is already armed")}
	}
	s.crashing = true
	ci := s.consIn
	s.mu.Unlock()
	crashed := ci.CrashAtNextPoll(afterCommit)
	s.faultEvent(name, "armed", "armed: the consumer crashes at its next poll with records, "+
		map[bool]string{false: "before", true: "after"}[afterCommit]+" committing it")
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			s.crashing = false
			s.mu.Unlock()
		}()
		select {
		case <-crashed:
		case <-s.ctx.Done():
			return
		}
		select {
		case <-ci.Done():
		case <-s.ctx.Done():
			return
		}
		s.faultEvent(name, "struck", fmt.Sprintf("consumer %d crashed", ci.ID))
		if err := s.startConsumer(); err != nil {
			s.publishError(err)
			return
		}
		s.faultEvent(name, "done", fmt.Sprintf("consumer %d started and resumes from the committed offsets", ci.ID+1))
	}()
	return nil
}

func (s *session) faultEvent(name, state, msg string) {
	e := newEvent("fault", s.id)
	e.Fault, e.State, e.Message = name, state, msg
	s.publish(e)
}
