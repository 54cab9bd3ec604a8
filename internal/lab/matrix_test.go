package lab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/waybill/waybill/internal/testbroker"
)

// waybillBinary is the broker binary, built once for the package: the kill -9 column runs
// it as a process.
var waybillBinary string

func TestMain(m *testing.M) { os.Exit(testbroker.RunWithBinary(m, &waybillBinary)) }

func testCell(seed int64) CellConfig {
	return CellConfig{Values: 200, Partitions: 3, Timeout: time.Minute, Seed: seed}
}

// requireHolds fails the test for every cell whose observation disagrees with its
// expectation: a violated guarantee, or a weakness the matrix claims that did not show.
func requireHolds(t *testing.T, rep *Report, skipped int) {
	t.Helper()
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("matrix against %s:\n%s", rep.Target, table.String())
	for _, c := range rep.Cells {
		if c.Duration > 2*time.Second {
			t.Logf("slow cell: %s × %s took %s", c.Row, c.Fault, c.Duration.Round(time.Millisecond))
		}
	}
	requireMatrixOrder(t, rep)
	for _, c := range rep.Cells {
		if c.Verdict != Holds && c.Verdict != Skipped {
			t.Errorf("%s × %s: %s; expected %s, observed %s (%s); examples %v",
				c.Row, c.Fault, c.Verdict, c.Expected, c.Result.Observed(), c.Note, c.Result.Examples)
		}
	}
	if got := rep.Count(Skipped); got != skipped {
		t.Errorf("%d cells skipped, want %d", got, skipped)
	}
}

// requireMatrixOrder fails the test unless the cells are in matrix order, fault by fault
// and row by row, whatever order they finished in.
func requireMatrixOrder(t *testing.T, rep *Report) {
	t.Helper()
	if len(rep.Cells) != len(rep.Rows)*len(rep.Faults) {
		t.Fatalf("%d cells, want %d", len(rep.Cells), len(rep.Rows)*len(rep.Faults))
	}
	for i, c := range rep.Cells {
		f, row := rep.Faults[i/len(rep.Rows)], rep.Rows[i%len(rep.Rows)]
		if c.Row != row.Name || c.Fault != f.Name {
			t.Fatalf("cell %d is %s × %s, want %s × %s", i, c.Row, c.Fault, row.Name, f.Name)
		}
	}
}

// TestMatrixOnWaybill runs the whole guarantee matrix against Waybill: every promise
// holds under every fault, and every weakness the weaker settings are expected to show —
// lost values with acks=0, duplicates after a lost ack without idempotence, duplicates
// from a second producer without transactions, reprocessing with commit-after-process,
// values never processed with commit-before-process, loss after a power loss with durable
// acks off — is actually observed.
func TestMatrixOnWaybill(t *testing.T) {
	dir := t.TempDir()
	node, err := NewNodeTarget(filepath.Join(dir, "node"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	process, err := NewProcessTarget(waybillBinary, filepath.Join(dir, "process"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer process.Close()
	var most int
	rep := RunMatrix(context.Background(), MatrixConfig{Faults: SingleNodeFaults(), Cell: testCell(1), Parallel: DefaultParallel, Target: func(f Fault) Target {
		if f.Process {
			return process
		}
		return node
	}, Progress: func(p Progress) {
		most = max(most, len(p.Running))
		checkPowerLossAlone(t, p.Running)
	}})
	requireHolds(t, rep, 0)
	if most < 2 || most > DefaultParallel {
		t.Errorf("at most %d cells ran at once, want 2 to %d", most, DefaultParallel)
	}
}

// checkPowerLossAlone fails the test if a power loss cell ran beside another cell on the
// in-process broker; kill -9 cells run on a broker of their own and may overlap.
func checkPowerLossAlone(t *testing.T, running []string) {
	t.Helper()
	powerLoss, others := 0, 0
	for _, name := range running {
		switch {
		case strings.Contains(name, " × power loss"):
			powerLoss++
		case !strings.HasSuffix(name, " × leader kill -9"):
			others++
		}
	}
	if powerLoss > 0 && powerLoss+others > 1 {
		t.Errorf("a power loss cell ran beside other cells on its broker: %q", running)
	}
}

// TestVerifyKfake audits franz-go's in-memory kfake, three brokers behind one proxy each,
// the way `waybill lab verify` audits any cluster: the broker faults are skipped, the
// network and client faults must hold.
func TestVerifyKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	target, err := NewClusterTarget(strings.Join(c.ListenAddrs(), ","), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	rep := RunMatrix(context.Background(), MatrixConfig{Cell: testCell(2), Parallel: DefaultParallel, Target: func(Fault) Target { return target }})
	requireHolds(t, rep, 10*len(Rows)) // kill -9, both power losses and the seven replication faults
}

// TestVerifyWaybillThroughClusterProxy audits a Waybill broker from the outside, through
// the same per-broker proxies verify uses, for the faults that touch the network.
func TestVerifyWaybillThroughClusterProxy(t *testing.T) {
	broker := testbroker.Start(t)
	target, err := NewClusterTarget(broker.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	var faults []Fault
	for _, id := range []string{"lost-ack", "zombie", "consumer-crash-before-commit", "kill-9"} {
		f, _ := FaultByID(id)
		faults = append(faults, f)
	}
	rep := RunMatrix(context.Background(), MatrixConfig{Faults: faults, Cell: testCell(3), Parallel: DefaultParallel, Target: func(Fault) Target { return target }})
	requireHolds(t, rep, len(Rows)) // kill -9
}
