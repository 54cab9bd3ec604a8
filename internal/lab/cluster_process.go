package lab

import (
	"context"
	"fmt"
	"time"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/peer"
)

// NewProcessCluster starts a cluster of binary ("waybill") child processes, with their
// data under o.Dir: its nodes get real signals, kill -9 and SIGTERM. They cannot be cut
// off from each other nor lose power from here.
func NewProcessCluster(binary string, o ClusterOptions) (*ReplicatedTarget, error) {
	o.defaults()
	pc, err := faults.StartProcessCluster(faults.ProcessClusterConfig{Binary: binary, Dir: o.Dir, Nodes: o.Nodes,
		Voters: o.Voters, BrokerConfig: LabClusterConfig, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	return &ReplicatedTarget{
		nodes:  processNodes{pc},
		name:   fmt.Sprintf("waybill %d-node cluster of processes (kill -9, SIGTERM)", o.Nodes),
		caps:   Capabilities{Nodes: o.Nodes, Crash: true, ControlledShutdown: true, DurableAcksConfig: true},
		logger: o.Logger,
		peers:  map[int32]*peer.Client{},
	}, nil
}

// processNodes are the nodes of a faults.ProcessCluster.
type processNodes struct{ pc *faults.ProcessCluster }

func (n processNodes) ids() []int32                    { return n.pc.Nodes() }
func (n processNodes) addr(id int32) string            { return n.pc.Node(id).Addr() }
func (n processNodes) kill(id int32) error             { return n.pc.Kill(id) }
func (n processNodes) stop(id int32) error             { return n.pc.Stop(id) }
func (n processNodes) start(id int32) error            { return n.pc.Start(id) }
func (n processNodes) isolate(int32) error             { return errUnsupported }
func (n processNodes) slow(int32, time.Duration) error { return errUnsupported }
func (n processNodes) heal(int32) error                { return errUnsupported }
func (n processNodes) powerLossAll() error             { return errUnsupported }
func (n processNodes) close()                          { _ = n.pc.Close() }

// replicaLogs kills every node, for good, and reads its replicas from its data
// directory: a process's log is read from disk, which it must no longer change. A kill
// keeps everything the processes wrote and takes no controlled shutdown's time.
func (n processNodes) replicaLogs(_ context.Context, topic string, partitions int32) ([]faults.ReplicaLog, error) {
	for _, id := range n.pc.Nodes() {
		if err := n.pc.Kill(id); err != nil {
			return nil, err
		}
	}
	return n.pc.ReplicaLogs(topic, partitions)
}
