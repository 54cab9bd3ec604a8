package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newDevCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Tools for trying Waybill out on one machine",
		Args:  cobra.ArbitraryArgs,
		RunE:  runSubcommandOrHelp,
	}
	cmd.AddCommand(newDevClusterCmd())
	return cmd
}

// devCluster is a local cluster of `waybill serve` child processes.
type devCluster struct {
	nodes    int
	dataDir  string
	basePort int
	logLevel string
	binary   string
}

// Port layout: node i (from 1) listens for Kafka clients at base+100(i-1), for the
// controller at one above that, and serves its console 552 above (9644 for base 9092).
const (
	devNodeStride      = 100
	devControllerShift = 1
	devAdminShift      = 552
	devReadyTimeout    = 2 * time.Minute
	devStopTimeout     = 30 * time.Second
)

func (d devCluster) kafka(i int) string {
	return "127.0.0.1:" + strconv.Itoa(d.basePort+devNodeStride*(i-1))
}
func (d devCluster) controller(i int) string {
	return "127.0.0.1:" + strconv.Itoa(d.basePort+devNodeStride*(i-1)+devControllerShift)
}
func (d devCluster) admin(i int) string {
	return "127.0.0.1:" + strconv.Itoa(d.basePort+devNodeStride*(i-1)+devAdminShift)
}
func (d devCluster) dir(i int) string { return filepath.Join(d.dataDir, fmt.Sprintf("node-%d", i)) }

// voters are the first 1, 3 or 5 nodes, the largest of those the cluster has.
func (d devCluster) voters() int {
	switch {
	case d.nodes >= 5:
		return 5
	case d.nodes >= 3:
		return 3
	}
	return 1
}

func (d devCluster) quorum() string {
	var entries []string
	for i := 1; i <= d.voters(); i++ {
		entries = append(entries, fmt.Sprintf("%d@%s", i, d.controller(i)))
	}
	return strings.Join(entries, ",")
}

func (d devCluster) brokers() string {
	var addrs []string
	for i := 1; i <= d.nodes; i++ {
		addrs = append(addrs, d.kafka(i))
	}
	return strings.Join(addrs, ",")
}

func (d devCluster) serveArgs(i int) []string {
	return []string{"serve", "--node-id", strconv.Itoa(i), "--listen", d.kafka(i),
		"--controller-listen", d.controller(i), "--controller-quorum", d.quorum(),
		"--data-dir", d.dir(i), "--admin-listen", d.admin(i), "--log-level", d.logLevel}
}

func newDevClusterCmd() *cobra.Command {
	d := devCluster{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a local cluster of N waybill serve processes on 127.0.0.1",
		Long: `Run a cluster of --nodes waybill serve processes on 127.0.0.1, for trying things
out: the first 1, 3 or 5 nodes are the metadata quorum's voters, the others brokers that
follow the metadata log. Node i (from 1) listens for Kafka clients at --base-port +
100(i-1), for the controller one port above, and serves its web console 552 ports above
(http://127.0.0.1:9644/ for node 1 with the default base port); its data is in
--data-dir/node-i.

Each node's log lines come out prefixed with its name. Once every node is ready the
command prints the --brokers list and the console URLs. Ctrl-C (or SIGTERM) stops every
node gracefully; running the command again with the same --data-dir starts the same
cluster with its data. A node that stops (kill -9 it to see a fail-over) is reported and
the others keep running.`,
		Example: `  waybill dev cluster
  waybill dev cluster --nodes 5 --data-dir /tmp/five --base-port 19092
  WAYBILL_BROKERS=127.0.0.1:9092,127.0.0.1:9192,127.0.0.1:9292 waybill cluster status`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d.nodes < 1 {
				return fmt.Errorf("--nodes must be at least 1")
			}
			if d.basePort < 1 || d.basePort+devNodeStride*(d.nodes-1)+devAdminShift > 65535 {
				return fmt.Errorf("--base-port %d leaves no room for %d nodes below port 65536", d.basePort, d.nodes)
			}
			if d.binary == "" {
				exe, err := os.Executable()
				if err != nil {
					return err
				}
				d.binary = exe
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return d.run(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.IntVar(&d.nodes, "nodes", 3, "how many nodes")
	f.StringVar(&d.dataDir, "data-dir", "./waybill-cluster", "where the nodes keep their data, one directory each")
	f.IntVar(&d.basePort, "base-port", 9092, "node 1's Kafka port; node i's is 100(i-1) above")
	f.StringVar(&d.logLevel, "log-level", "warn", "the nodes' log level: debug, info, warn or error")
	f.StringVar(&d.binary, "broker-binary", "", "the waybill binary the nodes run (default: this executable)")
	return cmd
}

// devNode is one running child.
type devNode struct {
	id     int
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

func (d devCluster) run(ctx context.Context, stdout, stderr io.Writer) error {
	if err := d.portsFree(); err != nil {
		return err
	}
	var logMu sync.Mutex
	nodes := make([]*devNode, 0, d.nodes)
	defer func() { d.stopAll(nodes, stderr) }()
	for i := 1; i <= d.nodes; i++ {
		n, err := d.start(i, stderr, &logMu)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
	}
	if err := d.waitReady(ctx, nodes); err != nil {
		return err
	}
	d.printReady(stdout)
	return d.watch(ctx, nodes, stderr)
}

func (d devCluster) start(i int, stderr io.Writer, logMu *sync.Mutex) (*devNode, error) {
	if err := os.MkdirAll(d.dir(i), 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(d.binary, d.serveArgs(i)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout // one stream, so lines stay whole and in order
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node %d: %w", i, err)
	}
	n := &devNode{id: i, cmd: cmd, exited: make(chan struct{})}
	go func() {
		prefix := fmt.Sprintf("node-%d | ", i)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logMu.Lock()
			fmt.Fprintln(stderr, prefix+sc.Text())
			logMu.Unlock()
		}
		n.err = cmd.Wait()
		close(n.exited)
	}()
	return n, nil
}

// waitReady waits until every node answers /readyz on its admin listener.
func (d devCluster) waitReady(ctx context.Context, nodes []*devNode) error {
	ctx, cancel := context.WithTimeout(ctx, devReadyTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for _, n := range nodes {
		url := "http://" + d.admin(n.id) + "/readyz"
		for {
			select {
			case <-n.exited:
				return fmt.Errorf("node %d exited before it was ready: %v", n.id, n.err)
			default:
			}
			if resp, err := client.Get(url); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("node %d not ready at %s: %w", n.id, url, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func (d devCluster) printReady(w io.Writer) {
	fmt.Fprintf(w, "cluster of %d node(s) is up; the metadata quorum's voters are nodes 1 to %d\n\n", d.nodes, d.voters())
	fmt.Fprintf(w, "  --brokers %s\n  export WAYBILL_BROKERS=%s\n\n", d.brokers(), d.brokers())
	t := newTable(w, "  NODE", "KAFKA", "CONTROLLER", "CONSOLE", "DATA")
	for i := 1; i <= d.nodes; i++ {
		t.row("  "+strconv.Itoa(i), d.kafka(i), d.controller(i), "http://"+d.admin(i)+"/", d.dir(i))
	}
	_ = t.flush()
	fmt.Fprintln(w, "\nCtrl-C stops every node gracefully; the same command starts the cluster again with its data.")
}

// watch reports nodes that exit and returns on a signal, or when no node is left.
func (d devCluster) watch(ctx context.Context, nodes []*devNode, stderr io.Writer) error {
	remaining := len(nodes)
	reported := map[int]bool{}
	ticker := time.NewTicker(200 * time.Millisecond)
	defer ticker.Stop()
	for remaining > 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		for _, n := range nodes {
			select {
			case <-n.exited:
				if !reported[n.id] {
					reported[n.id] = true
					remaining--
					fmt.Fprintf(stderr, "node %d exited (%v); the others keep running\n", n.id, n.err)
				}
			default:
			}
		}
	}
	return errors.New("every node has exited")
}

// stopAll sends SIGTERM to every node still running (a graceful stop), and kills those
// that have not stopped after devStopTimeout.
func (d devCluster) stopAll(nodes []*devNode, stderr io.Writer) {
	for _, n := range nodes {
		select {
		case <-n.exited:
		default:
			_ = n.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	deadline := time.After(devStopTimeout)
	for _, n := range nodes {
		select {
		case <-n.exited:
		case <-deadline:
			fmt.Fprintf(stderr, "node %d did not stop within %v; killing it\n", n.id, devStopTimeout)
			_ = n.cmd.Process.Kill()
			<-n.exited
		}
	}
}

// portsFree reports the first port of the cluster's layout that something else holds.
func (d devCluster) portsFree() error {
	for i := 1; i <= d.nodes; i++ {
		for _, addr := range []string{d.kafka(i), d.controller(i), d.admin(i)} {
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("%s is taken (%w): choose another --base-port", addr, err)
			}
			l.Close()
		}
	}
	return nil
}
