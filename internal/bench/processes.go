package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
)

const (
	// processReadyTimeout bounds the wait for every broker to be registered and
	// unfenced; a quorum of three elects its controller within seconds.
	processReadyTimeout = 2 * time.Minute
	// processStopTimeout bounds the graceful stops of all nodes together. The last
	// voter to stop has no quorum left for its controlled shutdown and gives it up
	// after about 3 s; the others stop at once.
	processStopTimeout = 15 * time.Second
	// processKillTimeout bounds the wait for a killed process to be gone.
	processKillTimeout = 5 * time.Second
	// processLogTail is how much of a node's log an error quotes.
	processLogTail = 2 << 10
)

// processCluster is the cluster target: `waybill serve` child processes on 127.0.0.1
// ports chosen at start, each with a data directory under one temporary directory.
type processCluster struct {
	dir      string
	nodes    []*nodeProcess
	progress io.Writer
	client   *kgo.Client // DescribeCluster: readiness, and the controller to stop last
	stopping atomic.Bool // set before Close signals, so that exits then are not losses
	lost     chan error
	outMu    sync.Mutex // keeps the nodes' prefixed lines whole on BrokerOutput
}

// nodeProcess is one child.
type nodeProcess struct {
	id                       int
	kafka, controller, admin string
	logPath                  string
	cmd                      *exec.Cmd
	exited                   chan struct{} // closed once the process is reaped
	err                      error         // cmd.Wait's, set before exited closes
}

// startProcesses starts o.Nodes serve processes of o.Binary as one cluster whose
// metadata quorum's voters are the first 1, 3 or 5 nodes, and waits until every
// broker sees all of them registered and unfenced. The processes run in their own
// process group, so that a Ctrl-C meant for the bench reaches them only as the bench's
// own orderly stop; on Linux they are killed if the bench dies without one.
func startProcesses(ctx context.Context, o TargetOptions, progress io.Writer) (*Cluster, error) {
	if o.Nodes < 1 {
		return nil, fmt.Errorf("a cluster needs at least 1 node, not %d", o.Nodes)
	}
	if o.Binary == "" {
		return nil, errors.New("the cluster target needs the waybill binary to run")
	}
	bc, err := config.ParseBroker(o.BrokerConfigs) // fails before any process starts
	if err != nil {
		return nil, fmt.Errorf("waybill broker configs: %w", err)
	}
	dir, err := os.MkdirTemp(o.DataDir, "waybill-bench-cluster-")
	if err != nil {
		return nil, err
	}
	pc := &processCluster{dir: dir, progress: progress, lost: make(chan error, 1)}
	if err := pc.placeNodes(o.Nodes); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	pc.say("starting %s, data in %s", count(o.Nodes, "waybill serve process", "waybill serve processes"), dir)
	began := time.Now()
	quorum := pc.quorum()
	for _, n := range pc.nodes {
		if err := pc.startNode(n, o, quorum); err != nil {
			pc.stop()
			return nil, err
		}
	}
	if err := pc.waitReady(ctx); err != nil {
		pc.stop()
		return nil, err
	}
	consoles := make([]string, len(pc.nodes))
	pids := make([]int, len(pc.nodes))
	for i, n := range pc.nodes {
		consoles[i] = "http://" + n.admin + "/"
		pids[i] = n.cmd.Process.Pid
	}
	pc.say("%s registered and unfenced after %.1fs; consoles (metrics, pprof) %s",
		count(o.Nodes, "broker", "brokers"), time.Since(began).Seconds(), strings.Join(consoles, " "))
	return &Cluster{
		Target: TargetCluster,
		Seeds:  pc.seeds(),
		Details: fmt.Sprintf("%s on 127.0.0.1 (pids %s; %s), data in %s, durable acks %v",
			count(o.Nodes, "waybill serve process", "waybill serve processes"), joinInts(pids),
			count(votersFor(o.Nodes), "quorum voter", "quorum voters"), dir, bc.TopicDefaults.DurableAcks),
		close: pc.stop,
		cpu:   &cpuSampler{pids: pids},
		lost:  pc.lost,
	}, nil
}

// placeNodes picks each node's three ports. All are held until all are chosen, so that
// no port is handed out twice; another process could still take one before its node
// binds it, and that node then fails to start, saying so.
func (pc *processCluster) placeNodes(n int) error {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	addr := func() (string, error) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		listeners = append(listeners, l)
		return l.Addr().String(), nil
	}
	for id := 1; id <= n; id++ {
		node := &nodeProcess{id: id, exited: make(chan struct{}),
			logPath: filepath.Join(pc.dir, fmt.Sprintf("node-%d.log", id))}
		for _, p := range []*string{&node.kafka, &node.controller, &node.admin} {
			a, err := addr()
			if err != nil {
				return fmt.Errorf("choosing ports for node %d: %w", id, err)
			}
			*p = a
		}
		pc.nodes = append(pc.nodes, node)
	}
	return nil
}

// votersFor is how many of n nodes vote in the metadata quorum: the first 1, 3 or 5,
// the largest of those that n allows, as `waybill dev cluster` chooses.
func votersFor(n int) int {
	switch {
	case n >= 5:
		return 5
	case n >= 3:
		return 3
	}
	return 1
}

func (pc *processCluster) quorum() string {
	entries := make([]string, votersFor(len(pc.nodes)))
	for i := range entries {
		entries[i] = fmt.Sprintf("%d@%s", pc.nodes[i].id, pc.nodes[i].controller)
	}
	return strings.Join(entries, ",")
}

func (pc *processCluster) seeds() []string {
	seeds := make([]string, len(pc.nodes))
	for i, n := range pc.nodes {
		seeds[i] = n.kafka
	}
	return seeds
}

// startNode starts one serve process, its output going to its log file and, with
// o.BrokerOutput, there too, and watches for its exit.
func (pc *processCluster) startNode(n *nodeProcess, o TargetOptions, quorum string) error {
	args := []string{"serve", "--node-id", strconv.Itoa(n.id), "--listen", n.kafka,
		"--controller-listen", n.controller, "--controller-quorum", quorum,
		"--data-dir", filepath.Join(pc.dir, fmt.Sprintf("node-%d", n.id)),
		"--admin-listen", n.admin, "--log-level", "warn"}
	keys := make([]string, 0, len(o.BrokerConfigs))
	for k := range o.BrokerConfigs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "--set", k+"="+o.BrokerConfigs[k])
	}
	logFile, err := os.Create(n.logPath)
	if err != nil {
		return err
	}
	n.cmd = exec.Command(o.Binary, args...)
	n.cmd.SysProcAttr = childProcAttr()
	out, err := n.cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return err
	}
	n.cmd.Stderr = n.cmd.Stdout // one stream, so that lines stay whole and in order
	if err := n.cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting node %d (%s): %w", n.id, o.Binary, err)
	}
	go func() {
		pc.copyLog(n.id, out, logFile, o.BrokerOutput)
		logFile.Close()
		n.err = n.cmd.Wait()
		close(n.exited)
		if !pc.stopping.Load() {
			select {
			case pc.lost <- fmt.Errorf("node %d exited during the run (%v)%s", n.id, n.err, n.logTail()):
			default: // one loss is enough to end the run
			}
		}
	}()
	return nil
}

// copyLog writes a node's output to its log file and, prefixed with the node, to out.
func (pc *processCluster) copyLog(id int, from io.Reader, file *os.File, out io.Writer) {
	sc := bufio.NewScanner(from)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	prefix := fmt.Sprintf("node-%d | ", id)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(file, line)
		if out != nil {
			pc.outMu.Lock()
			fmt.Fprintln(out, prefix+line)
			pc.outMu.Unlock()
		}
	}
	_, _ = io.Copy(file, from) // past an over-long line: keep draining, so the node never blocks
}

// logTail is the end of a node's log, for an error message.
func (n *nodeProcess) logTail() string {
	data, err := os.ReadFile(n.logPath)
	if err != nil || len(data) == 0 {
		return ""
	}
	if len(data) > processLogTail {
		data = data[len(data)-processLogTail:]
	}
	return "; its log ends:\n" + strings.TrimRight(string(data), "\n")
}

func (n *nodeProcess) running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return n.cmd != nil && n.cmd.Process != nil
	}
}

// waitReady polls DescribeCluster on every broker until each sees a controller and all
// nodes registered and unfenced, so that a topic created next can place its replicas on
// any of them.
func (pc *processCluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, processReadyTimeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(pc.seeds()...), kgo.ClientID("waybill-bench"))
	if err != nil {
		return err
	}
	pc.client = cl
	for {
		for _, n := range pc.nodes {
			if !n.running() {
				return fmt.Errorf("node %d exited before the cluster was ready (%v)%s", n.id, n.err, n.logTail())
			}
		}
		_, err := pc.describe(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d brokers to be registered and unfenced: %w (last: %v)", len(pc.nodes), ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// describe asks every broker for the cluster and returns the controller when each sees
// all nodes registered and unfenced.
func (pc *processCluster) describe(ctx context.Context) (controller int32, err error) {
	for _, b := range pc.client.SeedBrokers() {
		resp, err := describeCluster(ctx, b)
		if err != nil {
			return -1, err
		}
		unfenced := 0
		for _, br := range resp.Brokers {
			if !br.IsFenced {
				unfenced++
			}
		}
		if resp.ControllerID < 0 || unfenced < len(pc.nodes) {
			return -1, fmt.Errorf("a broker sees controller %d and %d of %d brokers unfenced", resp.ControllerID, unfenced, len(pc.nodes))
		}
		controller = resp.ControllerID
	}
	return controller, nil
}

func describeCluster(ctx context.Context, b *kgo.Broker) (*kmsg.DescribeClusterResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true
	resp, err := req.RequestWith(ctx, b)
	if err == nil {
		err = kerr.ErrorForCode(resp.ErrorCode)
	}
	return resp, err
}

// stop ends every node: SIGTERM, one node at a time and the controller last, so that
// each controlled shutdown finds a quorum while there is one; then SIGKILL for any still
// running when processStopTimeout is up. It removes the data directory. It is the
// cluster's Close, and the clean-up of a start that failed.
func (pc *processCluster) stop() {
	pc.stopping.Store(true)
	order := pc.stopOrder()
	if pc.client != nil {
		pc.client.Close()
	}
	began := time.Now()
	pc.say("stopping %s", count(len(pc.nodes), "broker process", "broker processes"))
	deadline := time.NewTimer(processStopTimeout)
	defer deadline.Stop()
graceful:
	for _, n := range order {
		if !n.running() {
			continue
		}
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-deadline.C:
			break graceful
		}
	}
	for _, n := range pc.nodes {
		if !n.running() {
			continue
		}
		pc.say("node %d did not stop within %v; killing it", n.id, processStopTimeout)
		_ = n.cmd.Process.Kill()
		select {
		case <-n.exited:
		case <-time.After(processKillTimeout):
			pc.say("node %d (pid %d) is still there %v after SIGKILL", n.id, n.cmd.Process.Pid, processKillTimeout)
		}
	}
	pc.say("stopped after %.1fs", time.Since(began).Seconds())
	os.RemoveAll(pc.dir)
}

// stopOrder puts the controller last, as the first broker that answers names it; any
// order will do when none does.
func (pc *processCluster) stopOrder() []*nodeProcess {
	order := slices.Clone(pc.nodes)
	if pc.client == nil {
		return order
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, b := range pc.client.SeedBrokers() {
		resp, err := describeCluster(ctx, b)
		if err != nil || resp.ControllerID < 0 {
			continue
		}
		slices.SortStableFunc(order, func(x, y *nodeProcess) int {
			return boolInt(int32(x.id) == resp.ControllerID) - boolInt(int32(y.id) == resp.ControllerID)
		})
		break
	}
	return order
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (pc *processCluster) say(format string, args ...any) {
	if pc.progress != nil {
		fmt.Fprintf(pc.progress, "%-8s %s\n", TargetCluster, fmt.Sprintf(format, args...))
	}
}

// count is n and what it counts, in the singular or plural as n asks.
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
