package console

import (
	"sync"
)

// ringSize is how many recent events the hub keeps, at most, for pages that (re)connect.
const ringSize = 8192

// subscriberBuffer is how many events a stream may fall behind before the hub drops it;
// the browser then reconnects and catches up from the ring.
const subscriberBuffer = 4096

// hub numbers events and fans them out to the open event streams. It keeps the latest
// events so that a page that reconnects (EventSource sends Last-Event-ID) misses nothing,
// and a page that connects fresh sees the current simulator run from its reset.
type hub struct {
	mu        sync.Mutex
	nextID    int64
	ring      []Event // the latest events, oldest first
	lastReset int64   // ID of the latest reset event; 0 if none
	subs      map[*subscriber]struct{}
	closed    bool
}

type subscriber struct {
	ch chan Event // closed when the hub drops the subscriber or closes
}

func newHub() *hub { return &hub{subs: map[*subscriber]struct{}{}} }

// publish numbers e, keeps it for replay and sends it to every subscriber. A subscriber
// too far behind is dropped rather than allowed to hold the others up.
func (h *hub) publish(e Event) { h.send(e, true) }

// publishLive sends e to the open streams without keeping it: a snapshot that the next
// one replaces, which a page that (re)connects reads from the API instead.
func (h *hub) publishLive(e Event) { h.send(e, false) }

func (h *hub) send(e Event, keep bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.nextID++
	e.ID = h.nextID
	if e.Type == "reset" {
		h.lastReset = e.ID
	}
	if keep {
		if len(h.ring) == ringSize { // forget the older half at once: amortised O(1)
			h.ring = append(make([]Event, 0, ringSize), h.ring[ringSize/2:]...)
		}
		h.ring = append(h.ring, e)
	}
	for s := range h.subs {
		select {
		case s.ch <- e:
		default:
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

// subscribe returns the events a stream should replay and a subscriber for the next
// ones. After lastID (a reconnecting page): the events after it, or from the latest reset
// if the ring no longer reaches back to it. Without (lastID 0): from the latest reset.
func (h *hub) subscribe(lastID int64) ([]Event, *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &subscriber{ch: make(chan Event, subscriberBuffer)}
	if h.closed {
		close(s.ch)
		return nil, s
	}
	h.subs[s] = struct{}{}
	from := h.lastReset
	if lastID > 0 && (len(h.ring) == 0 || lastID+1 >= h.ring[0].ID) {
		from = lastID + 1
	}
	i := 0
	for i < len(h.ring) && h.ring[i].ID < from {
		i++
	}
	return append([]Event(nil), h.ring[i:]...), s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// close ends every stream; later events are discarded.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
}
