package faults

import "time"

// Event is one frame as a proxy judged it, for observers (see Proxy.Observe).
type Event struct {
	Time time.Time // when the proxy read the frame
	// Node is the broker's node id behind a ClusterProxy's or a Node's proxy; -1 for a
	// proxy made by NewProxy.
	Node        int32
	Conn        uint64
	Dir         Direction
	APIKey      int16
	Version     int16
	Correlation int32
	Action      ActionKind
	// Frame is the frame body without its size prefix (request: header and body;
	// response: correlation id, header tags and body; see DecodeRequest and
	// DecodeResponse). It is valid only during the callback. A response is shown after
	// the proxy rewrote broker addresses in it.
	Frame []byte
}

// Stats counts what a proxy did.
type Stats struct {
	Conns int // connections accepted
	Open  int // connections open now
	// Frames by the action taken.
	Passed, Dropped, Cut, BlackHoled, Delayed int
	// Requests counts the requests read per API key, whatever their fate: a retry shows
	// up as one more.
	Requests map[int16]int
}

// Count is the number of frames that got action k.
func (s Stats) Count(k ActionKind) int {
	switch k {
	case Pass:
		return s.Passed
	case Drop:
		return s.Dropped
	case Cut:
		return s.Cut
	case BlackHole:
		return s.BlackHoled
	case Delay:
		return s.Delayed
	}
	return 0
}

// Frames is the number of frames judged.
func (s Stats) Frames() int { return s.Passed + s.Dropped + s.Cut + s.BlackHoled + s.Delayed }

func (s *Stats) count(k ActionKind) {
	switch k {
	case Pass:
		s.Passed++
	case Drop:
		s.Dropped++
	case Cut:
		s.Cut++
	case BlackHole:
		s.BlackHoled++
	case Delay:
		s.Delayed++
	}
}

// add sums o into s.
func (s *Stats) add(o Stats) {
	s.Conns += o.Conns
	s.Open += o.Open
	s.Passed += o.Passed
	s.Dropped += o.Dropped
	s.Cut += o.Cut
	s.BlackHoled += o.BlackHoled
	s.Delayed += o.Delayed
	if s.Requests == nil {
		s.Requests = map[int16]int{}
	}
	for k, n := range o.Requests {
		s.Requests[k] += n
	}
}

// clone copies s, map included.
func (s Stats) clone() Stats {
	c := s
	c.Requests = make(map[int16]int, len(s.Requests))
	for k, n := range s.Requests {
		c.Requests[k] = n
	}
	return c
}
