package main

import (
	"cmp"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/waybill/waybill/internal/clientopt"
	"github.com/waybill/waybill/internal/lab"
)

func newLabCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "The delivery lab: see what each delivery setting does under faults",
		Long: `The delivery lab runs real producers and consumers (franz-go) against a broker while
it injects faults, then reads everything back and counts what was lost, duplicated,
reordered, read although aborted, or processed zero times or twice.

  run      the guarantee matrix against Waybill brokers it starts itself
  verify   the same workload and checker against any Kafka-compatible cluster
  ui       the web console with the interactive delivery simulator`,
	}
	cmd.AddCommand(newLabRunCmd(), newLabVerifyCmd(), newLabUICmd())
	return cmd
}

// labOptions are the flags run and verify share.
type labOptions struct {
	quick       bool
	values      int
	seed        int64
	rows        string
	faults      string
	cellTimeout time.Duration
	jsonOut     string
	markdownOut string
	htmlOut     string
	noProgress  bool
	logLevel    string
	parallel    int
}

func (o *labOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.quick, "quick", false, "small cells (200 values each): the whole matrix in under 2 minutes on fresh 3-node clusters, about 10 s on one node")
	f.IntVar(&o.values, "values", 1000, "distinct values the producer delivers in each cell")
	f.Int64Var(&o.seed, "seed", 0, "makes a run reproducible: which frames faults hit, whatever cells run beside each other (default: random, printed)")
	f.StringVar(&o.rows, "settings", "", "comma-separated rows to run: "+rowIDs()+" (default: all)")
	f.StringVar(&o.faults, "faults", "", "comma-separated faults to run: "+faultIDs()+" (default: all)")
	f.DurationVar(&o.cellTimeout, "cell-timeout", time.Minute, "upper bound on each cell")
	f.StringVar(&o.jsonOut, "json", "", "also write the report as JSON to this file (- for stdout instead of the table)")
	f.StringVar(&o.markdownOut, "markdown", "", "also write the report as Markdown to this file (- for stdout)")
	f.StringVar(&o.htmlOut, "html", "", "also write the report as a self-contained HTML page with charts to this file")
	f.BoolVar(&o.noProgress, "no-progress", false, "no progress bar on stderr")
	f.StringVar(&o.logLevel, "log-level", "error", "log level of the brokers and the lab: debug, info, warn or error")
	f.IntVar(&o.parallel, "parallel", 0, fmt.Sprintf("cells running at once, each on its own topics and proxies (0: %d on fresh clusters, %d otherwise; on one node, kill -9 and power loss cells run alone on their broker)", lab.DefaultClusterParallel, lab.DefaultParallel))
}

func rowIDs() string {
	var ids []string
	for _, r := range lab.Rows {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ", ")
}

func faultIDs() string {
	var ids []string
	for _, f := range lab.Faults {
		ids = append(ids, f.ID)
	}
	return strings.Join(ids, ", ")
}

// matrixConfig turns the flags into the rows, faults and cell size of a run, and the
// logger of its brokers.
func (o *labOptions) matrixConfig(cmd *cobra.Command) (lab.MatrixConfig, *slog.Logger, error) {
	var mc lab.MatrixConfig
	logger, err := labLogger(o.logLevel)
	if err != nil {
		return mc, nil, err
	}
	if o.quick && !cmd.Flags().Changed("values") {
		o.values = 200
	}
	if o.values <= 0 {
		return mc, nil, fmt.Errorf("--values must be positive")
	}
	if o.parallel < 0 {
		return mc, nil, fmt.Errorf("--parallel must be positive, or 0 for the default")
	}
	mc.Parallel = cmp.Or(o.parallel, lab.DefaultParallel)
	if !cmd.Flags().Changed("seed") {
		o.seed = rand.Int64N(1_000_000)
	}
	for _, id := range clientopt.List(o.rows) {
		row, ok := lab.RowByID(id)
		if !ok {
			return mc, nil, fmt.Errorf("unknown settings %q: choose from %s", id, rowIDs())
		}
		mc.Rows = append(mc.Rows, row)
	}
	for _, id := range clientopt.List(o.faults) {
		f, ok := lab.FaultByID(id)
		if !ok {
			return mc, nil, fmt.Errorf("unknown fault %q: choose from %s", id, faultIDs())
		}
		mc.Faults = append(mc.Faults, f)
	}
	mc.Cell = lab.CellConfig{Values: o.values, Partitions: 3, Timeout: o.cellTimeout, Seed: o.seed, Logger: logger}
	return mc, logger, nil
}

func labLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}

// runMatrix runs the matrix with a progress bar, writes the report in every format asked
// for, and fails when a guarantee was violated or a cell could not run.
func (o *labOptions) runMatrix(cmd *cobra.Command, mc lab.MatrixConfig) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stderr := cmd.ErrOrStderr()
	fmt.Fprintf(stderr, "seed %d (rerun with --seed %d)\n", o.seed, o.seed)
	if !o.noProgress {
		mc.Progress = progressBar(stderr)
	}
	rep := lab.RunMatrix(ctx, mc)
	stdout := cmd.OutOrStdout()
	if o.jsonOut != "-" && o.markdownOut != "-" {
		if err := rep.WriteTable(stdout); err != nil {
			return err
		}
	}
	outputs := []struct {
		path  string
		write func(io.Writer) error
	}{{o.jsonOut, rep.WriteJSON}, {o.markdownOut, rep.WriteMarkdown}, {o.htmlOut, rep.WriteHTML}}
	for _, out := range outputs {
		if err := writeOutput(stdout, out.path, out.write); err != nil {
			return err
		}
	}
	if err := matrixError(rep); err != nil {
		return err
	}
	return ctx.Err()
}

// matrixError is the run's failure: a violated guarantee, or a cell that could not run.
// Expected weaknesses that did not show are flagged in the report but are no failure.
func matrixError(rep *lab.Report) error {
	violated, broken := rep.Count(lab.Violated), rep.Count(lab.Broken)
	switch {
	case violated > 0 && broken > 0:
		return fmt.Errorf("%d of %d cells violated a guarantee and %d failed to run", violated, len(rep.Cells), broken)
	case violated > 0:
		return fmt.Errorf("%d of %d cells violated a guarantee", violated, len(rep.Cells))
	case broken > 0:
		return fmt.Errorf("%d of %d cells failed to run", broken, len(rep.Cells))
	}
	return nil
}

func writeOutput(stdout io.Writer, path string, write func(io.Writer) error) error {
	switch path {
	case "":
		return nil
	case "-":
		return write(stdout)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newLabRunCmd() *cobra.Command {
	var o labOptions
	var binary, dataDir string
	var nodes int
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the guarantee matrix: delivery settings × faults against Waybill",
		Long: `Run the guarantee matrix. Each row is a delivery setting (acks=0; acks=1 with retries;
acks=all with retries; acks=all idempotent; transactional) with the consumer strategy
of its guarantee (commit before processing, commit after processing, or transactional
consume-transform-produce). Each column is a fault: none, a lost ack, a dropped request,
a connection cut mid-batch, the partition leader killed (kill -9), the leader cut off
from its followers then killed or healed, slow followers, a power loss of every node
with durable acks on and off, the controller killed, a rolling restart by SIGTERM, an
unclean leader election, a zombie producer, a producer crash mid-transaction, a consumer
crash before and after its commit.

Every cell runs on a fresh 3-node cluster of its own (--nodes 3, the default): topics
with replication factor 3 and min.insync.replicas=2, the nodes in this process on
in-memory disks that can lose power and network links that can be cut, except for the
kill -9, controller and rolling restart columns, whose nodes are waybill child
processes that get real signals. A producer delivers unique values, a consumer group
processes them, the fault strikes, then everything is read back, every replica is
compared batch by batch, and the history is checked. Cells run --parallel at a time.

--nodes 1 runs the single-node matrix instead: one broker for the network faults, one
for the power loss columns and a child process for kill -9, cells sharing them on
topics and proxies of their own; the replication columns do not apply to one node and
are left out unless asked for with --faults, when they are listed as skipped.

The cell shows what was observed (✓ as expected, ✗ a guarantee was violated, ? an
expected weakness did not show); the lines below the table explain every column and
every disagreement. The exit status is 1 when a guarantee was violated or a cell
failed to run.`,
		Example: `  waybill lab run --quick
  waybill lab run --seed 42 --html matrix.html --json matrix.json
  waybill lab run --settings acks-1,acks-all --faults leader-isolated-healed --values 5000
  waybill lab run --nodes 1 --quick --markdown - > matrix.md`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mc, logger, err := o.matrixConfig(cmd)
			if err != nil {
				return err
			}
			if nodes != 1 && nodes != 3 {
				return fmt.Errorf("--nodes must be 1 or 3, not %d", nodes)
			}
			if binary == "" {
				if binary, err = os.Executable(); err != nil {
					return err
				}
			}
			if dataDir == "" {
				if dataDir, err = os.MkdirTemp("", "waybill-lab-"); err != nil {
					return err
				}
				defer os.RemoveAll(dataDir)
			}
			if nodes == 1 {
				if mc.Faults == nil {
					mc.Faults = lab.SingleNodeFaults()
				}
				targets := newLabTargets(dataDir, binary, logger)
				defer targets.close()
				mc.Target = targets.forFault
				return o.runMatrix(cmd, mc)
			}
			mc.Parallel = cmp.Or(o.parallel, lab.DefaultClusterParallel)
			clusters := labClusters{dir: dataDir, binary: binary, nodes: nodes, logger: logger,
				processes: make(chan struct{}, maxProcessClusters)}
			mc.FreshTarget, mc.TargetName = clusters.start, clusters.name()
			return o.runMatrix(cmd, mc)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().IntVar(&nodes, "nodes", 3, "brokers in each cell's cluster: 3 (a fresh replicated cluster per cell) or 1 (the single-node matrix)")
	cmd.Flags().StringVar(&binary, "broker-binary", "", "the waybill binary the process columns run (default: this executable)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "where the brokers keep their metadata and the processes their data (default: a temporary directory, removed after)")
	return cmd
}

// labClusters starts each cell's own cluster: in this process, or as child processes
// for the faults that need real signals. Processes cost a small machine more than
// in-process nodes (each its own runtime, its own fsyncs): no more than
// maxProcessClusters of them run at once, the other cells going on meanwhile.
type labClusters struct {
	dir, binary string
	nodes       int
	logger      *slog.Logger
	processes   chan struct{} // a slot per process cluster running
}

const maxProcessClusters = 3

func (c labClusters) name() string {
	return fmt.Sprintf("a fresh %d-node waybill cluster per cell (in-process on in-memory disks; kill -9 and SIGTERM columns as processes)", c.nodes)
}

func (c labClusters) start(f lab.Fault) (lab.Target, error) {
	dir, err := os.MkdirTemp(c.dir, f.ID+"-")
	if err != nil {
		return nil, err
	}
	o := lab.ClusterOptions{Dir: dir, Nodes: c.nodes, Logger: c.logger}
	if f.QuorumOfOne {
		o.Voters = 1
	}
	if !f.Process {
		return lab.NewInProcessCluster(o)
	}
	c.processes <- struct{}{}
	t, err := lab.NewProcessCluster(c.binary, o)
	if err != nil {
		<-c.processes
		return nil, err
	}
	t.OnClose(func() { <-c.processes })
	return t, nil
}

// labTargets starts the brokers of a single-node matrix run when a cell first needs
// them: the kill -9 column's as a child process, the power loss columns' in this
// process, and one more in this process for the other columns. A cell that crashes its
// broker runs alone on it, so the brokers of their own let the other columns go on
// meanwhile.
type labTargets struct {
	dir, binary string
	logger      *slog.Logger
	started     map[string]lab.Target
	failed      map[string]bool
}

func newLabTargets(dir, binary string, logger *slog.Logger) *labTargets {
	return &labTargets{dir: dir, binary: binary, logger: logger, started: map[string]lab.Target{}, failed: map[string]bool{}}
}

func (t *labTargets) forFault(f lab.Fault) lab.Target {
	switch {
	case f.Process:
		return t.get("process", func(dir string) (lab.Target, error) { return lab.NewProcessTarget(t.binary, dir, t.logger) })
	case f.DisturbsBroker():
		return t.get("power", func(dir string) (lab.Target, error) { return lab.NewNodeTarget(dir, t.logger) })
	}
	return t.get("node", func(dir string) (lab.Target, error) { return lab.NewNodeTarget(dir, t.logger) })
}

// get starts the broker called name in its own directory once; nil if it failed to.
func (t *labTargets) get(name string, start func(dir string) (lab.Target, error)) lab.Target {
	if target, ok := t.started[name]; ok || t.failed[name] {
		return target
	}
	target, err := start(filepath.Join(t.dir, name))
	if err != nil {
		t.failed[name] = true
		t.logger.Error("lab: starting a broker", "broker", name, "binary", t.binary, "err", err)
		return nil
	}
	t.started[name] = target
	return target
}

func (t *labTargets) close() {
	for _, target := range t.started {
		target.Close()
	}
}

func newLabVerifyCmd() *cobra.Command {
	var o labOptions
	var brokers string
	cmd := &cobra.Command{
		Use:   "verify [--brokers host:port,...]",
		Short: "Audit any Kafka-compatible cluster with the lab's workload and checker",
		Long: `Audit a Kafka-compatible cluster: the same settings, workloads and checker as
'waybill lab run', with a fault proxy placed between the clients and each of the
cluster's brokers for the network faults (lost ack, dropped request, connection cut,
zombie producer, producer and consumer crashes). Broker faults (kill -9, power loss) need
control of the brokers and are skipped. Cells run --parallel at a time, each on its own
topics, group, transactional ids and proxies.

The cluster must allow creating topics (lab-* names, 3 partitions, the broker's default
replication factor), consumer groups and transactions. The exit status is 1 when a
guarantee the cluster's clients were promised was violated.`,
		Example: `  waybill lab verify --quick --brokers 127.0.0.1:9092
  waybill lab verify --brokers k1:9092,k2:9092,k3:9092 --values 5000 --html audit.html
  waybill lab verify --brokers 127.0.0.1:9092 --settings idempotent,transactional --faults lost-ack,zombie`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(clientopt.List(brokers)) == 0 {
				return fmt.Errorf("no brokers given: pass --brokers host:port[,host:port...] or set WAYBILL_BROKERS")
			}
			mc, logger, err := o.matrixConfig(cmd)
			if err != nil {
				return err
			}
			target, err := lab.NewClusterTarget(brokers, logger)
			if err != nil {
				return fmt.Errorf("reaching the cluster at %s: %w", brokers, err)
			}
			defer target.Close()
			mc.Target = func(lab.Fault) lab.Target { return target }
			return o.runMatrix(cmd, mc)
		},
	}
	o.addFlags(cmd)
	bindBrokersFlag(cmd.Flags(), &brokers, "")
	return cmd
}
