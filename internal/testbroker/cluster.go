package testbroker

import (
	"fmt"
	"sync"
	"testing"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/cluster"
)

// StartCluster starts n brokers on 127.0.0.1 that form one cluster, every one a voter of
// the metadata quorum, and stops them when the test ends. Their controller listeners are
// bound before any starts, so each knows the others' addresses. Brokers heartbeat every
// 100 ms and are fenced after 1.5 s without one, so that a stopped broker is noticed
// quickly; opts apply to every node after that.
func StartCluster(t testing.TB, n int, opts ...Option) []*Broker {
	t.Helper()
	var voters []cluster.Voter
	listeners := make([]*cluster.ControllerListener, n)
	for i := range listeners {
		l, err := cluster.ListenController("127.0.0.1:0", logger())
		if err != nil {
			t.Fatal(err)
		}
		listeners[i] = l
		voters = append(voters, cluster.Voter{ID: int32(i + 1), RaftAddr: l.Addr().String()})
	}
	nodes := make([]*Broker, n)
	for i := range nodes {
		node := func(c *broker.Config) {
			c.NodeID, c.Controller, c.Voters = int32(i+1), listeners[i], voters
			c.Logger = c.Logger.With("node", i+1)
		}
		fast := WithBrokerConfig(map[string]string{"broker.heartbeat.interval.ms": "100", "broker.session.timeout.ms": "1500"})
		nodes[i] = prepare(t, append([]Option{node, fast}, opts...)...)
	}
	StartAll(t, nodes...)
	t.Cleanup(func() {
		for _, tb := range nodes {
			if tb.Broker != nil {
				tb.Broker.Close()
			}
		}
	})
	return nodes
}

// StartAll starts (or starts again) the given brokers of a cluster at once: voters wait
// for each other to elect a controller, so one at a time would not do.
func StartAll(t testing.TB, nodes ...*Broker) {
	t.Helper()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, tb := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := tb.startErr(); err != nil {
				errs[i] = fmt.Errorf("node %d: %w", tb.cfg.NodeID, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// NodeID is the broker's node id.
func (tb *Broker) NodeID() int32 { return tb.cfg.NodeID }

// ControllerAddr is the broker's controller listener, host:port, once it has started;
// empty for a broker without one.
func (tb *Broker) ControllerAddr() string { return tb.cfg.ControllerListen }
