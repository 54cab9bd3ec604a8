package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ClusterProxy fronts every broker of a cluster with its own Proxy and rewrites broker
// addresses per node id, so that a client given Bootstrap reaches each broker only
// through that broker's proxy.
//
// Brokers are learnt from Metadata at start. A broker that appears later in a response
// (a node that joined) gets a proxy then, lazily, with the cluster's rule, observers and
// pause state; a known node whose advertised address changed (a restart on another port)
// has its proxy retargeted. Rules, observers and pauses apply to every proxy; a Rule's
// counters are shared across them (the third dropped Produce response is the third in
// the cluster).
type ClusterProxy struct {
	log *slog.Logger
	// obsMu serialises observer calls across the proxies (each proxy serialises its own).
	obsMu sync.Mutex

	mu        sync.Mutex
	proxies   map[int32]*Proxy
	rule      Rule
	observers observerSet
	paused    bool
	closed    bool
}

// NewClusterProxy asks the bootstrap brokers for the cluster's brokers and starts a proxy
// for each. A nil logger discards.
func NewClusterProxy(bootstrap []string, logger *slog.Logger) (*ClusterProxy, error) {
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = []kmsg.MetadataRequestTopic{} // brokers only
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("faults: metadata from %v: %w", bootstrap, err)
	}
	if len(resp.Brokers) == 0 {
		return nil, errors.New("faults: the cluster reported no brokers")
	}
	cp := &ClusterProxy{log: logger, proxies: map[int32]*Proxy{}}
	for _, b := range resp.Brokers {
		if _, err := cp.proxyFor(b.NodeID, b.Host, b.Port); err != nil {
			cp.Close()
			return nil, err
		}
	}
	return cp, nil
}

// proxyFor returns the proxy address of node at host:port, starting or retargeting its
// proxy as needed.
func (cp *ClusterProxy) proxyFor(node int32, host string, port int32) (string, error) {
	target := net.JoinHostPort(host, strconv.Itoa(int(port)))
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if p, ok := cp.proxies[node]; ok {
		if p.Target() != target {
			cp.log.Info("cluster proxy: broker moved", "node", node, "from", p.Target(), "to", target)
			p.SetTarget(target)
		}
		return p.Addr(), nil
	}
	if cp.closed {
		return "", errors.New("faults: cluster proxy closed")
	}
	p, err := newProxy(target, cp.log, node, cp.advertise)
	if err != nil {
		return "", fmt.Errorf("faults: proxy for node %d: %w", node, err)
	}
	p.SetRule(cp.rule)
	p.Observe(cp.dispatch)
	if cp.paused {
		p.Pause()
	}
	cp.proxies[node] = p
	cp.log.Info("cluster proxy: fronting broker", "node", node, "broker", target, "proxy", p.Addr())
	return p.Addr(), nil
}

// advertise is every proxy's address map: node → its proxy.
func (cp *ClusterProxy) advertise(node int32, host string, port int32) (string, int32) {
	if node < 0 || host == "" || port <= 0 {
		return host, port // not a broker's address (an error answer): nothing to proxy
	}
	addr, err := cp.proxyFor(node, host, port)
	if err != nil {
		cp.log.Warn("cluster proxy: leaving broker unproxied", "node", node, "host", host, "port", port, "err", err)
		return host, port
	}
	h, ps, _ := net.SplitHostPort(addr)
	pn, _ := strconv.Atoi(ps)
	return h, int32(pn)
}

func (cp *ClusterProxy) dispatch(ev Event) {
	cp.mu.Lock()
	observers := cp.observers.list
	cp.mu.Unlock()
	cp.obsMu.Lock()
	defer cp.obsMu.Unlock()
	call(observers, ev)
}

// each runs fn on every proxy, in node id order.
func (cp *ClusterProxy) each(fn func(*Proxy)) {
	for _, p := range cp.all() {
		fn(p)
	}
}

func (cp *ClusterProxy) all() []*Proxy {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	nodes := make([]int32, 0, len(cp.proxies))
	for n := range cp.proxies {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	ps := make([]*Proxy, len(nodes))
	for i, n := range nodes {
		ps[i] = cp.proxies[n]
	}
	return ps
}

// Bootstrap is the proxies' addresses, comma-separated, in node id order.
func (cp *ClusterProxy) Bootstrap() string {
	var addrs []string
	cp.each(func(p *Proxy) { addrs = append(addrs, p.Addr()) })
	return strings.Join(addrs, ",")
}

// Nodes lists the node ids fronted so far, in order.
func (cp *ClusterProxy) Nodes() []int32 {
	var nodes []int32
	cp.each(func(p *Proxy) { nodes = append(nodes, p.node) })
	return nodes
}

// Proxy is node's proxy (nil if unknown), for faults aimed at one broker.
func (cp *ClusterProxy) Proxy(node int32) *Proxy {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.proxies[node]
}

// SetRule installs r on every proxy, present and future.
func (cp *ClusterProxy) SetRule(r Rule) {
	cp.mu.Lock()
	cp.rule = r
	cp.mu.Unlock()
	cp.each(func(p *Proxy) { p.SetRule(r) })
}

// CutAll cuts every connection of every proxy.
func (cp *ClusterProxy) CutAll() { cp.each((*Proxy).CutAll) }

// Pause holds the traffic of every proxy (see Proxy.Pause).
func (cp *ClusterProxy) Pause() {
	cp.mu.Lock()
	cp.paused = true
	cp.mu.Unlock()
	cp.each((*Proxy).Pause)
}

// Resume ends a Pause.
func (cp *ClusterProxy) Resume() {
	cp.mu.Lock()
	cp.paused = false
	cp.mu.Unlock()
	cp.each((*Proxy).Resume)
}

// Observe registers fn for the frames of every proxy (Event.Node tells them apart),
// called one at a time across the cluster; see Proxy.Observe.
func (cp *ClusterProxy) Observe(fn func(Event)) (stop func()) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	id := cp.observers.add(fn)
	return func() {
		cp.mu.Lock()
		defer cp.mu.Unlock()
		cp.observers.remove(id)
	}
}

// Stats sums the proxies' counts.
func (cp *ClusterProxy) Stats() Stats {
	s := Stats{Requests: map[int16]int{}}
	cp.each(func(p *Proxy) { s.add(p.Stats()) })
	return s
}

// Close closes every proxy.
func (cp *ClusterProxy) Close() {
	cp.mu.Lock()
	cp.closed = true
	cp.mu.Unlock()
	cp.each((*Proxy).Close)
}
