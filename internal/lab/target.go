package lab

import (
	"context"

	"github.com/waybill/waybill/internal/faults"
)

// Target is the cluster a lab run audits. Every client reaches it through fault proxies.
type Target interface {
	// Name says what the target is, for reports.
	Name() string
	// Bootstrap is the proxied address clients connect to.
	Bootstrap() string
	// Network is the proxy every client goes through.
	Network() Network
	// ClientNetwork gives one client a proxy of its own, so a fault can hit that client
	// alone (a zombie producer's frozen network).
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
	Crash             bool
	PowerLoss         bool
	DurableAcksConfig bool // the waybill.durable.acks topic config applies
}

// Network is a proxy in front of the target's listeners.
type Network interface {
	SetRule(faults.Rule)
	CutAll()
	Pause()
	Resume()
	Observe(func(faults.Event)) (stop func())
}

// ClientNetwork is a proxy of one client's own.
type ClientNetwork interface {
	Network
	Bootstrap() string
	Close()
}
