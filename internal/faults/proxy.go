// Package faults injects the failures the delivery lab and the tests need: a Kafka-aware
// TCP proxy that drops requests or responses and cuts connections, chosen by API key and
// count. Brokers behind the proxy are advertised through it: Metadata, FindCoordinator and
// DescribeCluster answers are rewritten so that clients never bypass it.
package faults

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"
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

// Action is what a rule does to a frame.
type Action int

const (
	Pass Action = iota
	// Drop swallows the frame and cuts the connection, as a network failure would: the
	// client learns nothing about the request's fate (a lost ack when it is a response).
	Drop
	// Cut closes the connection before the frame is forwarded.
	Cut
)

// Rule decides the fate of frames. It is called for every frame with the API key of its
// request, in arrival order per connection; rules are shared by all connections.
type Rule func(dir Direction, apiKey int16) Action

// DropNth drops the n-th (1-based) and following frames of apiKey in dir, count of them.
func DropNth(dir Direction, apiKey int16, n, count int) Rule {
	var mu sync.Mutex
	seen := 0
	return func(d Direction, k int16) Action {
		if d != dir || k != apiKey {
			return Pass
		}
		mu.Lock()
		defer mu.Unlock()
		seen++
		if seen >= n && seen < n+count {
			return Drop
		}
		return Pass
	}
}

// Proxy forwards one listener to one broker.
type Proxy struct {
	target string
	ln     net.Listener
	log    *slog.Logger

	mu     sync.Mutex
	rule   Rule
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	stats  Stats
}

// Stats counts what the proxy did.
type Stats struct {
	Forwarded, Dropped, Cut int
}

// NewProxy listens on 127.0.0.1 and forwards to target (host:port).
func NewProxy(target string, logger *slog.Logger) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p := &Proxy{target: target, ln: ln, log: logger, conns: map[net.Conn]struct{}{}}
	go p.accept()
	return p, nil
}

// Addr is the proxy's listener address; give it to clients as the bootstrap server.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetRule replaces the rule (nil passes everything).
func (p *Proxy) SetRule(r Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rule = r
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// CutAll closes every open connection.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		broker, err := net.Dial("tcp", p.target)
		if err != nil {
			p.log.Warn("proxy: dialing broker", "target", p.target, "err", err)
			client.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			client.Close()
			broker.Close()
			return
		}
		p.conns[client], p.conns[broker] = struct{}{}, struct{}{}
		p.wg.Add(1)
		p.mu.Unlock()
		go p.pipe(client, broker)
	}
}

// pipe runs one proxied connection: requests one way, responses the other, with the
// request's key and version remembered by correlation id so responses can be judged and
// rewritten.
func (p *Proxy) pipe(client, broker net.Conn) {
	defer p.wg.Done()
	var inflight sync.Map // correlation id → [2]int16{key, version}
	done := make(chan struct{}, 2)
	closeBoth := func() {
		client.Close()
		broker.Close()
	}
	go func() {
		defer func() { done <- struct{}{} }()
		err := p.copyFrames(client, broker, ToBroker, func(frame []byte) ([]byte, int16, error) {
			if len(frame) < 8 {
				return nil, 0, errors.New("short request header")
			}
			key := int16(binary.BigEndian.Uint16(frame[0:]))
			version := int16(binary.BigEndian.Uint16(frame[2:]))
			inflight.Store(int32(binary.BigEndian.Uint32(frame[4:])), [2]int16{key, version})
			return frame, key, nil
		})
		p.log.Debug("proxy: request side ended", "err", err)
		closeBoth()
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		err := p.copyFrames(broker, client, ToClient, func(frame []byte) ([]byte, int16, error) {
			if len(frame) < 4 {
				return nil, 0, errors.New("short response header")
			}
			v, ok := inflight.LoadAndDelete(int32(binary.BigEndian.Uint32(frame[0:])))
			if !ok {
				return nil, 0, errors.New("response to an unknown correlation id")
			}
			kv := v.([2]int16)
			out, err := p.rewriteAddresses(frame, kv[0], kv[1])
			return out, kv[0], err
		})
		p.log.Debug("proxy: response side ended", "err", err)
		closeBoth()
	}()
	<-done
	<-done
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, broker)
	p.mu.Unlock()
}

// copyFrames forwards size-prefixed frames from src to dst, applying the rule.
func (p *Proxy) copyFrames(src, dst net.Conn, dir Direction, inspect func([]byte) ([]byte, int16, error)) error {
	var size [4]byte
	for {
		if _, err := io.ReadFull(src, size[:]); err != nil {
			return err
		}
		n := binary.BigEndian.Uint32(size[:])
		if n > 1<<30 {
			return fmt.Errorf("frame of %d bytes", n)
		}
		frame := make([]byte, n)
		if _, err := io.ReadFull(src, frame); err != nil {
			return err
		}
		out, key, err := inspect(frame)
		if err != nil {
			return err
		}
		p.mu.Lock()
		action := Pass
		if p.rule != nil {
			action = p.rule(dir, key)
		}
		switch action {
		case Drop:
			p.stats.Dropped++
		case Cut:
			p.stats.Cut++
		default:
			p.stats.Forwarded++
		}
		p.mu.Unlock()
		if action != Pass {
			p.log.Debug("proxy: fault", "dir", dir, "api", kmsg.NameForKey(key), "action", action)
			return fmt.Errorf("fault injected on %s %s", kmsg.NameForKey(key), dir)
		}
		binary.BigEndian.PutUint32(size[:], uint32(len(out)))
		if _, err := dst.Write(append(size[:], out...)); err != nil {
			return err
		}
	}
}

// rewriteAddresses points broker addresses in Metadata, FindCoordinator and
// DescribeCluster responses at the proxy.
func (p *Proxy) rewriteAddresses(frame []byte, key, version int16) ([]byte, error) {
	switch kmsg.Key(key) {
	case kmsg.Metadata, kmsg.FindCoordinator, kmsg.DescribeCluster:
	default:
		return frame, nil
	}
	resp := kmsg.ResponseForKey(key)
	resp.SetVersion(version)
	body := frame[4:]
	if resp.IsFlexible() {
		var err error
		if body, err = skipTags(body); err != nil {
			return nil, err
		}
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s response: %w", kmsg.NameForKey(key), err)
	}
	host, portStr, _ := net.SplitHostPort(p.Addr())
	port64, _ := strconv.Atoi(portStr)
	port := int32(port64)
	switch r := resp.(type) {
	case *kmsg.MetadataResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = host, port
		}
	case *kmsg.FindCoordinatorResponse:
		if r.NodeID >= 0 {
			r.Host, r.Port = host, port
		}
		for i := range r.Coordinators {
			if r.Coordinators[i].NodeID >= 0 {
				r.Coordinators[i].Host, r.Coordinators[i].Port = host, port
			}
		}
	case *kmsg.DescribeClusterResponse:
		for i := range r.Brokers {
			r.Brokers[i].Host, r.Brokers[i].Port = host, port
		}
	}
	out := append([]byte(nil), frame[:4]...)
	if resp.IsFlexible() {
		out = append(out, 0)
	}
	return resp.AppendTo(out), nil
}

func skipTags(b []byte) ([]byte, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errors.New("bad tagged fields")
	}
	b = b[n:]
	for i := uint64(0); i < count; i++ {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, errors.New("bad tagged fields")
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, errors.New("bad tagged fields")
		}
		b = b[n+int(size):]
	}
	return b, nil
}
