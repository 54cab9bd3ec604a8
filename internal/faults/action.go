package faults

import (
	"fmt"
	"time"
)

// Direction says which way a frame travels.
type Direction int

const (
	ToBroker Direction = iota // a request
	ToClient                  // a response
)

func (d Direction) String() string {
	if d == ToBroker {
		return "request"
	}
	return "response"
}

// AnyKey in a rule matches frames of every API key.
const AnyKey int16 = -1

// Frame is what a rule sees of one frame: enough to choose it, nothing to change it.
type Frame struct {
	Dir Direction
	// APIKey and Version are those of the request (a response carries neither, so the
	// proxy remembers them by correlation id). APIKey is -1 for a response the proxy
	// could not match to a request.
	APIKey  int16
	Version int16
	// Conn numbers the proxy's connections from 1, in accept order.
	Conn uint64
}

// ActionKind is what happens to a frame.
type ActionKind uint8

const (
	// Pass forwards the frame.
	Pass ActionKind = iota
	// Drop swallows the frame and cuts the connection, as a network failure would: a
	// dropped request never reaches the broker; a dropped response is the lost ack, the
	// broker did the work and the client cannot know.
	Drop
	// Cut closes the connection instead of forwarding the frame. On the wire it is the
	// same as Drop; it is counted apart so that a scenario can tell "the connection
	// broke" from "the ack was lost".
	Cut
	// BlackHole swallows the frame and every later frame of its connection in the same
	// direction, but keeps the connection open: the peer learns only by its own timeout.
	BlackHole
	// Delay forwards the frame late (Action.Delay). Frames of a connection keep their
	// order, so the frames behind a delayed one wait too.
	Delay
	numKinds
)

var kindNames = [numKinds]string{"pass", "drop", "cut", "black-hole", "delay"}

func (k ActionKind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("action(%d)", uint8(k))
}

// Action is a rule's verdict on a frame. The zero Action passes it.
type Action struct {
	Kind  ActionKind
	Delay time.Duration // only for Kind Delay
}

// Do is the Action of kind k (without a delay; use DelayBy for Delay).
func Do(k ActionKind) Action { return Action{Kind: k} }

// DelayBy is the Action that forwards a frame d late.
func DelayBy(d time.Duration) Action { return Action{Kind: Delay, Delay: d} }

// Rule decides the fate of frames. A proxy calls it for every frame, one at a time and in
// the order it reads them; the same Rule may be installed on several proxies (a
// ClusterProxy does so), so it must be safe for concurrent use. The constructors in this
// package are; their counters are shared by every proxy the rule is installed on.
type Rule func(Frame) Action

// Rules combines rules: each frame gets the verdict of the first rule that does not pass
// it. Later rules do not see a frame an earlier rule acted on, so their counters do not
// advance for it. Nil rules are skipped.
func Rules(rs ...Rule) Rule {
	return func(f Frame) Action {
		for _, r := range rs {
			if r == nil {
				continue
			}
			if a := r(f); a.Kind != Pass {
				return a
			}
		}
		return Action{}
	}
}
