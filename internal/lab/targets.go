package lab

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/waybill/waybill/internal/clientopt"
	"github.com/waybill/waybill/internal/faults"
)

// NodeTarget is an in-process Waybill broker on an in-memory filesystem: it crashes as a
// process would (everything written survives) and loses power (only what was fsynced
// survives), restarting at once on the same address.
type NodeTarget struct {
	node   *faults.Node
	logger *slog.Logger
}

// NewNodeTarget starts a broker with its metadata under dir, a real directory.
func NewNodeTarget(dir string, logger *slog.Logger) (*NodeTarget, error) {
	node, err := faults.StartNode(faults.NodeConfig{Dir: dir, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &NodeTarget{node: node, logger: logger}, nil
}

func (t *NodeTarget) Name() string      { return "waybill in-process (in-memory disk)" }
func (t *NodeTarget) Bootstrap() string { return t.node.Addr() }
func (t *NodeTarget) Capabilities() Capabilities {
	return Capabilities{Nodes: 1, Crash: true, PowerLoss: true, DurableAcksConfig: true}
}
func (t *NodeTarget) ClientNetwork() (ClientNetwork, error) {
	return newClientProxy(t.node.Addr(), t.logger)
}
func (t *NodeTarget) Crash(context.Context) error     { return t.node.Crash() }
func (t *NodeTarget) PowerLoss(context.Context) error { return t.node.PowerLoss() }
func (t *NodeTarget) Close()                          { _ = t.node.Close() }

// Node is the broker, for the web console's live view.
func (t *NodeTarget) Node() *faults.Node { return t.node }

// ProcessTarget is the waybill binary as a child process, so that a crash is a real
// kill -9.
type ProcessTarget struct {
	node   *faults.ProcessNode
	logger *slog.Logger
}

// NewProcessTarget starts binary ("waybill") with its data under dir.
func NewProcessTarget(binary, dir string, logger *slog.Logger) (*ProcessTarget, error) {
	node, err := faults.StartProcessNode(faults.ProcessConfig{Binary: binary, Dir: dir, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &ProcessTarget{node: node, logger: logger}, nil
}

func (t *ProcessTarget) Name() string      { return "waybill process (kill -9)" }
func (t *ProcessTarget) Bootstrap() string { return t.node.Addr() }
func (t *ProcessTarget) Capabilities() Capabilities {
	return Capabilities{Nodes: 1, Crash: true, DurableAcksConfig: true}
}
func (t *ProcessTarget) PowerLoss(context.Context) error { return errUnsupported }
func (t *ProcessTarget) Close()                          { _ = t.node.Close() }
func (t *ProcessTarget) ClientNetwork() (ClientNetwork, error) {
	return newClientProxy(t.node.Addr(), t.logger)
}

// Crash is kill -9 and a restart on the same directory and ports.
func (t *ProcessTarget) Crash(context.Context) error {
	if err := t.node.Kill(); err != nil {
		return err
	}
	return t.node.Start()
}

// ClusterTarget is any Kafka-compatible cluster, reached through one proxy per broker, a
// set of proxies for each cell (ClientNetwork). Its brokers cannot be crashed from here,
// so broker faults are skipped.
type ClusterTarget struct {
	bootstrap []string
	proxy     *faults.ClusterProxy
	logger    *slog.Logger
}

// NewClusterTarget proxies the cluster at bootstrap (host:port,...).
func NewClusterTarget(bootstrap string, logger *slog.Logger) (*ClusterTarget, error) {
	seeds := clientopt.List(bootstrap)
	if len(seeds) == 0 {
		return nil, fmt.Errorf("no bootstrap servers in %q", bootstrap)
	}
	cp, err := faults.NewClusterProxy(seeds, logger)
	if err != nil {
		return nil, err
	}
	return &ClusterTarget{bootstrap: seeds, proxy: cp, logger: logger}, nil
}

func (t *ClusterTarget) Name() string                    { return strings.Join(t.bootstrap, ",") }
func (t *ClusterTarget) Bootstrap() string               { return t.proxy.Bootstrap() }
func (t *ClusterTarget) Capabilities() Capabilities      { return Capabilities{} }
func (t *ClusterTarget) Crash(context.Context) error     { return errUnsupported }
func (t *ClusterTarget) PowerLoss(context.Context) error { return errUnsupported }
func (t *ClusterTarget) Close()                          { t.proxy.Close() }
func (t *ClusterTarget) ClientNetwork() (ClientNetwork, error) {
	return faults.NewClusterProxy(t.bootstrap, t.logger)
}

// clientProxy is a single proxy serving as a cell's or a client's network.
type clientProxy struct{ *faults.Proxy }

func newClientProxy(target string, logger *slog.Logger) (ClientNetwork, error) {
	p, err := faults.NewProxy(target, logger)
	if err != nil {
		return nil, err
	}
	return clientProxy{p}, nil
}

func (c clientProxy) Bootstrap() string { return c.Addr() }
