package faults

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// dialTimeout bounds a proxy's connection attempt to its broker.
const dialTimeout = 5 * time.Second

// Proxy forwards one 127.0.0.1 listener to one broker, judging every frame with its Rule
// as it reads it; delivery may come later (Delay, Pause).
//
// Lock order: judgeMu before mu. Observers run under judgeMu only, so they may call the
// proxy's methods, all but Close (which waits for the goroutine running the observer).
type Proxy struct {
	ln   net.Listener
	log  *slog.Logger
	node int32 // Event.Node
	// advertise maps a broker in a Metadata, FindCoordinator or DescribeCluster response
	// to the address clients should use; nil maps every broker to this proxy.
	advertise func(node int32, host string, port int32) (string, int32)

	// judgeMu serialises judging: the rule and the observers see the frames of all
	// connections one at a time, in one order.
	judgeMu sync.Mutex

	mu        sync.Mutex
	target    string
	rule      Rule
	observers observerSet
	conns     map[uint64]*conn
	nextConn  uint64
	resumed   chan struct{} // non-nil while paused; Resume closes it
	closed    bool
	done      chan struct{} // closed by Close
	stats     Stats
	wg        sync.WaitGroup
}

// NewProxy listens on 127.0.0.1 and forwards to target (host:port). Every broker address
// in responses (Metadata, FindCoordinator, DescribeCluster, leader hints) is rewritten to
// the proxy's, which suits one broker; a cluster needs NewClusterProxy. A nil logger
// discards.
func NewProxy(target string, logger *slog.Logger) (*Proxy, error) {
	return newProxy(target, logger, -1, nil)
}

func newProxy(target string, logger *slog.Logger, node int32, advertise func(int32, string, int32) (string, int32)) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Proxy{
		ln:        ln,
		log:       logger,
		node:      node,
		advertise: advertise,
		target:    target,
		conns:     map[uint64]*conn{},
		done:      make(chan struct{}),
		stats:     Stats{Requests: map[int16]int{}},
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listener address; give it to clients as the bootstrap server.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the broker address new connections go to.
func (p *Proxy) Target() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.target
}

// SetTarget sends later connections to addr, for a broker that restarted on another
// port. Open connections keep their broker; CutAll ends them.
func (p *Proxy) SetTarget(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = addr
}

// SetRule replaces the rule for the frames read from now on (nil passes everything).
func (p *Proxy) SetRule(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = r
}

// Observe registers fn to be called with every frame the proxy judges, whatever the
// verdict, and returns a function that unregisters it. Calls are synchronous and one at
// a time, in the order the rule saw the frames, outside the proxy's mutex: a slow
// observer slows the traffic, and fn may call the proxy's methods except Close.
func (p *Proxy) Observe(fn func(Event)) (stop func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.observers.add(fn)
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.observers.remove(id)
	}
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats.clone()
	s.Open = len(p.conns)
	return s
}

// CutAll closes every open connection, and those held by Pause, at once: frames queued
// in the proxy (delayed or held) are lost with them.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	conns := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
}

// Pause holds traffic as a paused broker would seem from the network: connections stay
// open, the proxy keeps reading and judging frames (up to a queue of 64 per connection
// and direction, then TCP pushes back) but delivers none in either direction, and new
// connections are accepted but not yet connected to the broker. Resume delivers what
// was held, in order. A frame already being written when Pause is called still
// arrives. Pausing a paused proxy does nothing.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resumed == nil {
		p.resumed = make(chan struct{})
	}
}

// Resume ends a Pause.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resumed != nil {
		close(p.resumed)
		p.resumed = nil
	}
}

// Close stops the proxy, closes its connections and waits for their goroutines.
func (p *Proxy) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.done)
		p.ln.Close()
	}
	p.mu.Unlock()
	p.CutAll()
	p.wg.Wait()
}

// waitResumed returns once the proxy is not paused, or false if done (the connection's)
// or the proxy closed first.
func (p *Proxy) waitResumed(done <-chan struct{}) bool {
	for {
		p.mu.Lock()
		ch := p.resumed
		p.mu.Unlock()
		if ch == nil {
			return true
		}
		select {
		case <-ch:
		case <-done:
			return false
		case <-p.done:
			return false
		}
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			return
		}
		p.nextConn++
		c := newConn(p.nextConn, client)
		p.conns[c.id] = c
		p.stats.Conns++
		p.wg.Add(1)
		p.mu.Unlock()
		go p.serve(c)
	}
}

// judge gives the verdict on one frame: forced if set (a black-holed direction), else the
// rule's. It counts the frame and shows it to the observers.
func (p *Proxy) judge(f Frame, corr int32, body []byte, forced *Action) Action {
	p.judgeMu.Lock()
	defer p.judgeMu.Unlock()
	p.mu.Lock()
	rule, observers := p.rule, p.observers.list
	p.mu.Unlock()

	var act Action
	switch {
	case forced != nil:
		act = *forced
	case rule != nil:
		act = rule(f)
	}
	p.mu.Lock()
	p.stats.count(act.Kind)
	if f.Dir == ToBroker {
		p.stats.Requests[f.APIKey]++
	}
	p.mu.Unlock()
	if act.Kind != Pass {
		p.log.Debug("proxy: fault", "conn", f.Conn, "dir", f.Dir, "api", f.APIKey, "action", act.Kind, "delay", act.Delay)
	}
	if len(observers) > 0 {
		ev := Event{
			Time: time.Now(), Node: p.node, Conn: f.Conn, Dir: f.Dir, APIKey: f.APIKey,
			Version: f.Version, Correlation: corr, Action: act.Kind, Frame: body,
		}
		call(observers, ev)
	}
	return act
}
