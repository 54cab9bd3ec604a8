package console

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/records"
)

// wire watches the simulator producer's own proxy and tells the travel of each value:
// which Produce request carried it (a second one is a retry), what the broker answered,
// and whether the fault layer dropped the request or its answer. It runs inside the
// proxy's observer, one frame at a time, so it only decodes and publishes.
type wire struct {
	topic   string
	session int
	emit    func(Event)
	// struck is told when a fault hit a Produce frame: "drop-request" or "drop-ack".
	struck func(fault string)

	mu       sync.Mutex
	pending  map[wireKey]pendingProduce // requests awaiting their answer
	attempts map[string]int             // value → Produce requests that carried it
	stored   map[string][]place         // value → where the broker said it stored it
	retried  int                        // values carried by more than one request
	acksLost int                        // answers the fault layer dropped
}

// wireKey names a request: connection ids and correlation ids are each proxy's own, and
// the producer's network has a proxy per node.
type wireKey struct {
	node int32
	conn uint64
	corr int32
}

// pendingProduce is what a Produce request carried, per partition, in order.
type pendingProduce struct {
	parts    map[int32][]string
	attempts map[string]int
}

type place struct {
	partition int32
	offset    int64
}

func newWire(topic string, session int, emit func(Event), struck func(string)) *wire {
	return &wire{topic: topic, session: session, emit: emit, struck: struck,
		pending: map[wireKey]pendingProduce{}, attempts: map[string]int{}, stored: map[string][]place{}}
}

// observe is the proxy observer.
func (w *wire) observe(e faults.Event) {
	if e.APIKey != int16(kmsg.Produce) {
		return
	}
	if e.Dir == faults.ToBroker {
		w.request(e)
	} else {
		w.response(e)
	}
}

func lost(a faults.ActionKind) bool { return a != faults.Pass && a != faults.Delay }

func (w *wire) request(e faults.Event) {
	req, err := faults.DecodeRequest(e.Frame)
	if err != nil {
		return
	}
	pr, ok := req.(*kmsg.ProduceRequest)
	if !ok {
		return
	}
	p := pendingProduce{parts: map[int32][]string{}, attempts: map[string]int{}}
	for _, t := range pr.Topics {
		if t.Topic != w.topic {
			continue
		}
		for _, part := range t.Partitions {
			p.parts[part.Partition] = append(p.parts[part.Partition], batchValues(part.Records)...)
		}
	}
	if len(p.parts) == 0 {
		return
	}
	w.mu.Lock()
	var events []Event
	for partition, values := range p.parts {
		for _, v := range values {
			w.attempts[v]++
			n := w.attempts[v]
			p.attempts[v] = n
			typ := "request"
			if n > 1 {
				typ = "retry"
				if n == 2 {
					w.retried++
				}
			}
			ev := valueEvent(typ, w.session, v, partition, -1)
			ev.Attempt, ev.Node = n, e.Node
			events = append(events, ev)
			if lost(e.Action) {
				ev := valueEvent("request-lost", w.session, v, partition, -1)
				ev.Attempt = n
				events = append(events, ev)
			}
		}
	}
	if !lost(e.Action) && pr.Acks != 0 {
		w.pending[wireKey{e.Node, e.Conn, e.Correlation}] = p
	}
	w.mu.Unlock()
	for _, ev := range events {
		w.emit(ev)
	}
	if e.Action == faults.Drop {
		w.struck("drop-request")
	}
}

func (w *wire) response(e faults.Event) {
	key := wireKey{e.Node, e.Conn, e.Correlation}
	w.mu.Lock()
	p, ok := w.pending[key]
	delete(w.pending, key)
	w.mu.Unlock()
	if !ok {
		return
	}
	resp, err := faults.DecodeResponse(e.APIKey, e.Version, e.Frame)
	if err != nil {
		return
	}
	pr, ok := resp.(*kmsg.ProduceResponse)
	if !ok {
		return
	}
	w.mu.Lock()
	var events []Event
	for _, t := range pr.Topics {
		if t.Topic != w.topic {
			continue
		}
		for _, part := range t.Partitions {
			for i, v := range p.parts[part.Partition] {
				var ev Event
				switch {
				case part.ErrorCode == 0 && part.BaseOffset >= 0:
					at := place{part.Partition, part.BaseOffset + int64(i)}
					ev = valueEvent("stored", w.session, v, at.partition, at.offset)
					if w.storedAt(v, at) {
						ev.Type = "deduped"
					} else {
						w.stored[v] = append(w.stored[v], at)
					}
				case part.ErrorCode == kerr.DuplicateSequenceNumber.Code:
					ev = valueEvent("deduped", w.session, v, part.Partition, -1)
				default:
					ev = valueEvent("rejected", w.session, v, part.Partition, -1)
					if err := kerr.ErrorForCode(part.ErrorCode); err != nil {
						ev.Error = err.Error()
					}
				}
				ev.Attempt = p.attempts[v]
				events = append(events, ev)
				if lost(e.Action) {
					lostEv := valueEvent("ack-lost", w.session, v, part.Partition, ev.Offset)
					lostEv.Attempt = p.attempts[v]
					events = append(events, lostEv)
				}
			}
		}
	}
	if lost(e.Action) {
		w.acksLost++
	}
	w.mu.Unlock()
	for _, ev := range events {
		w.emit(ev)
	}
	if e.Action == faults.Drop {
		w.struck("drop-ack")
	}
}

// noteStored records that value is at p, learnt from a read rather than an answer (an
// acks=0 producer hears none); it reports whether this is news.
func (w *wire) noteStored(value string, p place) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.storedAt(value, p) {
		return false
	}
	w.stored[value] = append(w.stored[value], p)
	return true
}

func (w *wire) storedAt(value string, p place) bool {
	for _, q := range w.stored[value] {
		if q == p {
			return true
		}
	}
	return false
}

// counts returns the values retried and the answers lost so far.
func (w *wire) counts() (retried, acksLost int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.retried, w.acksLost
}

// batchValues returns the record values of the batches in b, in order. It reads what it
// can and stops at the first batch it cannot.
func batchValues(b []byte) []string {
	var values []string
	for len(b) >= records.HeaderSize {
		h, err := records.ParseHeader(b)
		if err != nil || h.Size() > len(b) || h.Size() < records.HeaderSize {
			break
		}
		_ = records.Iterate(b[:h.Size()], func(r records.Record) error {
			values = append(values, string(r.Value))
			return nil
		})
		b = b[h.Size():]
	}
	return values
}
