package faults

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// queueLen is how many frames a connection holds per direction (delayed, or held by
// Pause) before the proxy stops reading that side and TCP pushes back.
const queueLen = 64 // Pause's doc quotes it

// conn is one proxied connection. Each has four goroutines once its broker is dialled: a
// reader and a deliverer per direction, joined by a queue, so that a delayed or held frame
// delays the frames behind it and nothing else.
type conn struct {
	id     uint64
	client net.Conn
	done   chan struct{} // closed by close
	once   sync.Once

	mu       sync.Mutex
	broker   net.Conn          // nil until dialled
	inflight map[int32]reqInfo // requests awaiting a response, by correlation id
}

type reqInfo struct{ key, version int16 }

// item is a frame (with its size prefix) queued for delivery not before due; end, instead,
// closes the connection once the frames before it are delivered (the sender closed).
type item struct {
	data []byte
	due  time.Time
	end  bool
}

func newConn(id uint64, client net.Conn) *conn {
	return &conn{id: id, client: client, done: make(chan struct{}), inflight: map[int32]reqInfo{}}
}

// close closes both sockets; the goroutines notice and end.
func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.client.Close()
		c.mu.Lock()
		if c.broker != nil {
			c.broker.Close()
		}
		c.mu.Unlock()
	})
}

// resetClient makes the client's side end with a reset when the connection closes, as
// the broker's did or as a refused connection does without the proxy: a graceful close
// instead would look like a broker that hung up on its first request, which kgo takes
// for a TLS mismatch and does not retry.
func (c *conn) resetClient() {
	if tc, ok := c.client.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

// attach records the broker socket, or reports false if the connection closed meanwhile.
func (c *conn) attach(broker net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return false
	default:
	}
	c.broker = broker
	return true
}

func (c *conn) expect(corr int32, key, version int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight[corr] = reqInfo{key, version}
}

func (c *conn) answered(corr int32) (reqInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.inflight[corr]
	delete(c.inflight, corr)
	return r, ok
}

// serve runs one connection: it waits out a Pause, dials the broker, then pipes frames
// both ways until either side closes or a fault cuts it.
func (p *Proxy) serve(c *conn) {
	defer p.wg.Done()
	defer func() {
		c.close()
		p.mu.Lock()
		delete(p.conns, c.id)
		p.mu.Unlock()
	}()
	if !p.waitResumed(c.done) {
		return
	}
	target := p.Target()
	broker, err := net.DialTimeout("tcp", target, dialTimeout)
	if err != nil {
		p.log.Warn("proxy: dialing broker", "target", target, "err", err)
		c.resetClient()
		return
	}
	if !c.attach(broker) {
		broker.Close()
		return
	}
	requests, responses := make(chan item, queueLen), make(chan item, queueLen)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); p.readRequests(c, requests) }()
	go func() { defer wg.Done(); p.deliver(c, broker, requests) }()
	go func() { defer wg.Done(); p.readResponses(c, broker, responses) }()
	go func() { defer wg.Done(); p.deliver(c, c.client, responses) }()
	wg.Wait()
}

var blackHoled = Do(BlackHole)

func (p *Proxy) readRequests(c *conn, q chan<- item) {
	holed := false
	for {
		buf, err := readFrame(c.client)
		if err != nil {
			p.endQueue(c, q, ToBroker, err)
			return
		}
		body := buf[4:]
		key, version, corr, err := requestHeader(body)
		if err != nil {
			p.log.Warn("proxy: bad request", "conn", c.id, "err", err)
			c.close()
			return
		}
		f := Frame{Dir: ToBroker, APIKey: key, Version: version, Conn: c.id}
		if holed {
			p.judge(f, corr, body, &blackHoled)
			continue
		}
		act := p.judge(f, corr, body, nil)
		if (act.Kind == Pass || act.Kind == Delay) && expectsResponse(key, body) {
			c.expect(corr, key, version) // before the broker can answer
		}
		if !p.forward(c, q, act, buf, &holed) {
			return
		}
	}
}

func (p *Proxy) readResponses(c *conn, broker net.Conn, q chan<- item) {
	holed := false
	for {
		buf, err := readFrame(broker)
		if err != nil {
			if errors.Is(err, syscall.ECONNRESET) {
				c.resetClient()
			}
			p.endQueue(c, q, ToClient, err)
			return
		}
		body := buf[4:]
		corr, err := responseCorrelation(body)
		if err != nil {
			p.log.Warn("proxy: bad response", "conn", c.id, "err", err)
			c.close()
			return
		}
		f := Frame{Dir: ToClient, APIKey: -1, Version: -1, Conn: c.id}
		if req, ok := c.answered(corr); ok {
			f.APIKey, f.Version = req.key, req.version
			out, err := p.rewriteAddresses(body, corr, req.key, req.version)
			if err != nil {
				p.log.Warn("proxy: rewriting broker addresses", "conn", c.id, "err", err)
				c.close()
				return
			}
			if out != nil {
				buf = binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(out)), uint32(len(out)))
				buf = append(buf, out...)
				body = buf[4:]
			}
		} else {
			p.log.Debug("proxy: response to an unknown correlation id", "conn", c.id, "correlation", corr)
		}
		if holed {
			p.judge(f, corr, body, &blackHoled)
			continue
		}
		if !p.forward(c, q, p.judge(f, corr, body, nil), buf, &holed) {
			return
		}
	}
}

// forward carries out a verdict on a frame; false means the connection is done.
func (p *Proxy) forward(c *conn, q chan<- item, act Action, buf []byte, holed *bool) bool {
	var due time.Time
	switch act.Kind {
	case Drop, Cut:
		c.close()
		return false
	case BlackHole:
		*holed = true
		return true
	case Delay:
		due = time.Now().Add(act.Delay)
	}
	select {
	case q <- item{data: buf, due: due}:
		return true
	case <-c.done:
		return false
	}
}

// endQueue closes the connection after the frames already queued in this direction, so a
// sender's last frames still arrive when it closes.
func (p *Proxy) endQueue(c *conn, q chan<- item, dir Direction, err error) {
	p.log.Debug("proxy: side ended", "conn", c.id, "dir", dir, "err", err)
	select {
	case q <- item{end: true}:
	case <-c.done:
	}
}

// deliver writes the queued frames to dst in order, each not before it is due and not
// while the proxy is paused.
func (p *Proxy) deliver(c *conn, dst net.Conn, q <-chan item) {
	for {
		var it item
		select {
		case it = <-q:
		case <-c.done:
			return
		}
		if it.end {
			c.close()
			return
		}
		if wait := time.Until(it.due); !it.due.IsZero() && wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.done:
				t.Stop()
				return
			}
		}
		if !p.waitResumed(c.done) {
			return
		}
		if _, err := dst.Write(it.data); err != nil {
			c.close()
			return
		}
	}
}

// readFrame reads one size-prefixed frame, returning it with its prefix.
func readFrame(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxFrame {
		return nil, fmt.Errorf("faults: frame of %d bytes", n)
	}
	buf := make([]byte, 4+n)
	copy(buf, size[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, err
	}
	return buf, nil
}
