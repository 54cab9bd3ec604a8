package lab

import (
	"context"

	"github.com/waybill/waybill/internal/faults"
)

// Target is the cluster a lab run audits. Every client reaches it through fault proxies.
// Its methods may be called from concurrent cells.
type Target interface {
	// Name says what the target is, for reports.
	Name() string
	// Bootstrap is an address clients can connect to, outside any cell's network.
	Bootstrap() string
	// ClientNetwork gives a cell, or one client of a cell, proxies of its own, so that a
	// fault hits those connections alone: a rule, a cut or a pause on one never touches
	// the traffic of another (a concurrent cell, or the cell's other clients while a
	// zombie producer's network is frozen).
	ClientNetwork() (ClientNetwork, error)
	// Capabilities says which broker faults the target can take.
	Capabilities() Capabilities
	// Crash kills the broker as kill -9 would and restarts it.
	Crash(ctx context.Context) error
	// PowerLoss drops everything the broker did not fsync and restarts it.
	PowerLoss(ctx context.Context) error
	Close()
}

// Capabilities are the broker faults a target can take.
type Capabilities struct {
	Crash             bool // a broker can be killed (on a cluster, any node)
	PowerLoss         bool // every broker at once
	DurableAcksConfig bool // the waybill.durable.acks topic config applies
	// Nodes is how many brokers the lab controls; 0 for a cluster it only reaches.
	// Replication faults need 3.
	Nodes int
	// Links: a node can be cut off from its peers, or its replication slowed, while its
	// clients still reach it (in-process clusters).
	Links bool
	// ControlledShutdown: a node can be stopped by SIGTERM and restarted.
	ControlledShutdown bool
}

// Network is a proxy in front of the target's listeners.
type Network interface {
	SetRule(faults.Rule)
	CutAll()
	Pause()
	Resume()
	Observe(func(faults.Event)) (stop func())
}

// ClientNetwork is a proxy of a cell's or a client's own.
type ClientNetwork interface {
	Network
	Bootstrap() string
	Close()
}
