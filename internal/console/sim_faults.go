package console

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
)

// FaultRequest is the body of POST /api/sim/fault.
type FaultRequest struct {
	// Fault is one of:
	//   drop-ack       drop the broker's answer to the producer's next Produce request
	//   drop-request   drop the producer's next Produce request before the broker sees it
	//   cut            cut the producer's connections now
	//   kill-leader    kill partition 0's leader, no controlled shutdown; it stays down
	//                  until restart-node
	//   isolate-leader cut partition 0's leader off from the other nodes and the
	//                  controller; clients still reach it
	//   slow-follower  hold back a follower's replication fetches until heal (Node, or
	//                  the first follower in sync)
	//   heal           end isolate-leader and slow-follower (Node, or every node)
	//   restart-node   restart a killed node on what it had written (Node, or every
	//                  node down)
	//   power-loss     cut every node's power: each restarts on what it fsynced
	//   crash-consumer crash the consumer at its next poll, before it commits
	//   crash-consumer-after-commit  the same, right after it commits
	//   disarm         forget the armed faults that have not struck
	Fault string `json:"fault"`
	// Node picks the node of slow-follower, heal and restart-node; the others choose
	// their own and refuse one.
	Node int32 `json:"node,omitempty"`
	// Settings, if set and different from the current run's, start a fresh run first, so
	// that a fault armed after changing the settings waits in the run the next send uses.
	Settings *SimSettings `json:"settings,omitempty"`
}

// knownFaults are the faults FaultRequest accepts; true for those that take a Node.
var knownFaults = map[string]bool{
	"drop-ack": false, "drop-request": false, "cut": false, "kill-leader": false, "isolate-leader": false,
	"slow-follower": true, "heal": true, "restart-node": true, "power-loss": false,
	"crash-consumer": false, "crash-consumer-after-commit": false, "disarm": false,
}

// checkFault refuses what no run could apply.
func checkFault(req FaultRequest) error {
	takesNode, ok := knownFaults[req.Fault]
	switch {
	case !ok:
		return fmt.Errorf("unknown fault %q", req.Fault)
	case req.Node != 0 && !takesNode:
		return fmt.Errorf("fault %q picks its own node: leave node out", req.Fault)
	case req.Node < 0 || req.Node > sandboxNodes:
		return fmt.Errorf("node must be between 1 and %d, not %d", sandboxNodes, req.Node)
	}
	return nil
}

// fault injects or arms req.Fault in the current run.
func (s *simulator) fault(req FaultRequest) (SimState, error) {
	if err := checkFault(req); err != nil {
		return SimState{}, badRequest{err}
	}
	f := req.Fault
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
	case "crash-consumer", "crash-consumer-after-commit":
		if err := sess.armConsumerCrash(f == "crash-consumer-after-commit"); err != nil {
			return SimState{}, err
		}
	default:
		if err := s.clusterFault(sess, f, req.Node); err != nil {
			return SimState{}, err
		}
	}
	return sess.state(), nil
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

func (s *session) faultEvent(name, state, msg string) { s.nodeFaultEvent(name, state, 0, msg) }

// nodeFaultEvent is a fault event about node (0: none).
func (s *session) nodeFaultEvent(name, state string, node int32, msg string) {
	e := newEvent("fault", s.id)
	e.Fault, e.State, e.Node, e.Message = name, state, node, msg
	s.publish(e)
}
