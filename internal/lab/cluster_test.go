package lab

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/faults"
)

// freshClusters starts a cluster of its own for each cell, as `lab run` does: in
// process, or as waybill processes for the faults that need real signals.
func freshClusters(t *testing.T) func(Fault) (Target, error) {
	return func(f Fault) (Target, error) {
		dir, err := os.MkdirTemp(t.TempDir(), f.ID+"-")
		if err != nil {
			return nil, err
		}
		o := ClusterOptions{Dir: dir}
		if f.QuorumOfOne {
			o.Voters = 1
		}
		if f.Process {
			return NewProcessCluster(waybillBinary, o)
		}
		return NewInProcessCluster(o)
	}
}

// TestReplicationFaults runs every replication fault against fresh 3-node clusters, for
// the rows that tell them apart: acks=1, answered by the leader alone, loses what a
// deposed leader acknowledged; acks=all and transactions lose nothing while one in-sync
// replica survives; an unclean election costs every row. Every cell must hold, expected
// weaknesses included, and the replicas must agree batch by batch.
func TestReplicationFaults(t *testing.T) {
	var faults []Fault
	for _, f := range Faults {
		if f.Replicated() || f.DisturbsBroker() {
			faults = append(faults, f)
		}
	}
	var rows []Settings
	for _, id := range []string{"acks-1", "idempotent", "transactional"} {
		row, _ := RowByID(id)
		rows = append(rows, row)
	}
	rep := RunMatrix(context.Background(), MatrixConfig{Rows: rows, Faults: faults, Cell: testCell(42),
		Parallel: DefaultParallel, FreshTarget: freshClusters(t), TargetName: "fresh 3-node clusters"})
	requireHolds(t, rep, 0)
	isolated, _ := rep.Cell("acks=1, retries", "leader isolated, then healed")
	if isolated.Result.Counts[Lost] == 0 || isolated.Result.Counts[AckedTruncated] == 0 {
		t.Errorf("acks=1 lost nothing to a deposed leader: %v", isolated.Result.Counts)
	}
	for _, c := range rep.Cells {
		if c.Row != "acks=1, retries" && c.Fault != "unclean leader election" && c.Fault != "power loss, durable acks off" && c.Result.Counts[Lost] > 0 {
			t.Errorf("%s × %s lost %d acknowledged values", c.Row, c.Fault, c.Result.Counts[Lost])
		}
		if c.Result.ReplicaBatches == 0 && c.Result.Stored > 0 {
			t.Errorf("%s × %s: no replica was compared after the run (%s)", c.Row, c.Fault, c.Note)
		}
		if c.Result.Counts[ReplicaDivergence] > 0 {
			t.Errorf("%s × %s: replicas diverge: %v", c.Row, c.Fault, c.Result.Examples[ReplicaDivergence])
		}
	}
}

// TestVerifyReplicatedWaybill audits a 3-node Waybill cluster from the outside, as
// `lab verify --brokers` does, with a proxy in front of every broker: the network faults
// hold with replication factor 3, and the broker and replication faults, which need
// control of the brokers, are listed as skipped with the reason.
func TestVerifyReplicatedWaybill(t *testing.T) {
	c, err := faults.StartCluster(faults.ClusterConfig{Dir: t.TempDir(), Nodes: 3, BrokerConfig: LabClusterConfig})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target, err := NewClusterTarget(strings.Join(c.Seeds(), ","), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var fs []Fault
	for _, id := range []string{"lost-ack", "cut-mid-batch", "zombie", "kill-9", "leader-isolated-healed"} {
		f, _ := FaultByID(id)
		fs = append(fs, f)
	}
	rows := []Settings{Rows[1], Rows[3]}
	rep := RunMatrix(context.Background(), MatrixConfig{Rows: rows, Faults: fs, Cell: testCell(4), Parallel: DefaultParallel,
		Target: func(Fault) Target { return target }})
	requireHolds(t, rep, 2*len(rows))
	for _, c := range rep.Cells {
		if c.Verdict == Skipped && !strings.Contains(c.Note, "cannot be crashed") && !strings.Contains(c.Note, "does not control") {
			t.Errorf("%s × %s skipped for %q", c.Row, c.Fault, c.Note)
		}
	}
	if len(target.proxy.Nodes()) != 3 {
		t.Errorf("verify fronted nodes %v, want all three", target.proxy.Nodes())
	}
}
