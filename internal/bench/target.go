package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/config"
)

// Target names where a run sends its load.
type Target string

const (
	// TargetWaybill starts an in-process Waybill broker on a temporary data directory,
	// with the broker's defaults (fsynced, durable acks) unless BrokerConfigs says else.
	TargetWaybill Target = "waybill"
	// TargetKfake starts franz-go's in-memory fake cluster (one broker) in-process: the
	// comparison peer, which keeps everything in memory and never fsyncs.
	TargetKfake Target = "kfake"
	// TargetExternal uses an already running cluster at Brokers.
	TargetExternal Target = "external"
	// TargetCluster starts Nodes `waybill serve` processes of Binary as one cluster on
	// 127.0.0.1, so that each broker's CPU can be measured on its own.
	TargetCluster Target = "cluster"
)

// ParseTarget checks a target name. The cluster target is not among them: it is
// asked for by its number of nodes.
func ParseTarget(s string) (Target, error) {
	switch t := Target(s); t {
	case TargetWaybill, TargetKfake, TargetExternal:
		return t, nil
	}
	return "", fmt.Errorf("target %q: want waybill, kfake or external", s)
}

// TargetOptions says how to start or reach a target.
type TargetOptions struct {
	Brokers []string // external only
	// DataDir is the parent of the waybill and cluster targets' temporary data
	// directory; empty means the system temporary directory.
	DataDir string
	// BrokerConfigs are Kafka-named broker configs for the waybill and cluster targets.
	BrokerConfigs map[string]string
	// Logger receives the waybill broker's logs; nil discards them.
	Logger *slog.Logger

	// Nodes is the cluster target's number of `waybill serve` processes, and Binary the
	// waybill executable they run.
	Nodes  int
	Binary string
	// BrokerOutput receives the cluster target's log lines (warnings and errors), each
	// prefixed with its node; nil keeps them in the nodes' log files only.
	BrokerOutput io.Writer
}

// brokers is how many brokers the target has; 0 when unknown.
func (o TargetOptions) brokers(t Target) int {
	switch t {
	case TargetWaybill, TargetKfake:
		return 1
	case TargetCluster:
		return o.Nodes
	}
	return 0
}

// Cluster is a started (or reached) target.
type Cluster struct {
	Target  Target
	Seeds   []string
	Details string // one line describing it, for the report
	close   func()
	// cpu reads the brokers' CPU time; nil when they share this process or run
	// elsewhere.
	cpu *cpuSampler
	// lost receives an error when a broker process exits before Close; nil for targets
	// without processes.
	lost <-chan error
}

// Close stops an in-process cluster and removes its data; a no-op for external ones.
func (c *Cluster) Close() {
	if c.close != nil {
		c.close()
	}
}

// Start starts or reaches the target. Starting a cluster of processes waits until
// every broker is registered and unfenced, or ctx ends.
func Start(ctx context.Context, t Target, o TargetOptions) (*Cluster, error) {
	return start(ctx, t, o, nil)
}

// start is Start with a writer for the cluster target's start-up and stop lines.
func start(ctx context.Context, t Target, o TargetOptions, progress io.Writer) (*Cluster, error) {
	switch t {
	case TargetWaybill:
		return startWaybill(o)
	case TargetKfake:
		return startKfake()
	case TargetCluster:
		return startProcesses(ctx, o, progress)
	case TargetExternal:
		if len(o.Brokers) == 0 {
			return nil, fmt.Errorf("target external needs brokers")
		}
		return &Cluster{Target: t, Seeds: o.Brokers, Details: "external " + strings.Join(o.Brokers, ",")}, nil
	}
	return nil, fmt.Errorf("unknown target %q", t)
}

func startWaybill(o TargetOptions) (*Cluster, error) {
	bc, err := config.ParseBroker(o.BrokerConfigs)
	if err != nil {
		return nil, fmt.Errorf("waybill broker configs: %w", err)
	}
	dir, err := os.MkdirTemp(o.DataDir, "waybill-bench-")
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	b, err := broker.Start(broker.Config{NodeID: 1, DataDir: dir, Listen: "127.0.0.1:0", Broker: bc, Logger: logger})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting in-process waybill: %w", err)
	}
	return &Cluster{
		Target:  TargetWaybill,
		Seeds:   []string{b.Addr().String()},
		Details: fmt.Sprintf("in-process waybill, data in %s, durable acks %v", dir, bc.TopicDefaults.DurableAcks),
		close: func() {
			b.Close()
			os.RemoveAll(dir)
		},
	}, nil
}

func startKfake() (*Cluster, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, fmt.Errorf("starting kfake: %w", err)
	}
	return &Cluster{
		Target:  TargetKfake,
		Seeds:   c.ListenAddrs(),
		Details: "in-process kfake (franz-go), 1 broker, in memory",
		close:   c.Close,
	}, nil
}
