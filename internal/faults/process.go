package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process timeouts: how long a start may take to answer /readyz, and a kill to exit.
const (
	processReadyTimeout = 20 * time.Second
	processExitTimeout  = 10 * time.Second
)

// ProcessConfig configures a ProcessNode.
type ProcessConfig struct {
	// Binary is the built waybill binary (required).
	Binary string
	// Dir is the data directory (required), kept across kills and restarts.
	Dir string
	// BrokerConfig holds broker configs by their Kafka names, passed as --set. Default:
	// group.initial.rebalance.delay.ms=0.
	BrokerConfig map[string]string
	// Args are more `waybill serve` flags, such as a cluster node's --node-id,
	// --controller-listen and --controller-quorum. A cluster's voters only become ready
	// together, so start them at once (one StartProcessNode per goroutine).
	Args []string
	// Stderr receives the broker's log of every run; nil discards it. An *os.File opened
	// for appending keeps all runs in one file.
	Stderr io.Writer
	// Logger receives the proxy's logs; nil discards them.
	Logger *slog.Logger
}

// ProcessNode is the waybill binary as a child process (`waybill serve`) on fixed
// 127.0.0.1 ports and a data directory, kept across kills and restarts, fronted by a
// Proxy: the broker a test kills with SIGKILL, or freezes with SIGSTOP.
type ProcessNode struct {
	cfg       ProcessConfig
	addr      string // Kafka listener
	adminAddr string // /readyz
	proxy     *Proxy

	mu     sync.Mutex // serialises Start, Kill and Close; guards the fields below
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
	starts int
}

// StartProcessNode picks free ports, starts the binary and waits until it is ready.
func StartProcessNode(cfg ProcessConfig) (*ProcessNode, error) {
	pn, err := newProcessNode(cfg, -1, nil)
	if err != nil {
		return nil, err
	}
	if err := pn.Start(); err != nil {
		pn.Close()
		return nil, err
	}
	return pn, nil
}

// newProcessNode picks the node's ports and starts its proxy, leaving the process to
// Start: a cluster needs every node's proxy address before any node runs. node and
// advertise are the proxy's (see newProxy): -1 and nil for a lone broker.
func newProcessNode(cfg ProcessConfig, node int32, advertise func(int32, string, int32) (string, int32)) (*ProcessNode, error) {
	if cfg.Binary == "" || cfg.Dir == "" {
		return nil, errors.New("faults: ProcessConfig needs Binary and Dir")
	}
	addr, err := FreeLocalAddr()
	if err != nil {
		return nil, err
	}
	adminAddr, err := FreeLocalAddr()
	if err != nil {
		return nil, err
	}
	proxy, err := newProxy(addr, cfg.Logger, node, advertise)
	if err != nil {
		return nil, err
	}
	return &ProcessNode{cfg: cfg, addr: addr, adminAddr: adminAddr, proxy: proxy}, nil
}

// Addr is the proxy's address: give it to clients.
func (pn *ProcessNode) Addr() string { return pn.proxy.Addr() }

// BrokerAddr is the broker's own Kafka listener, bypassing the proxy.
func (pn *ProcessNode) BrokerAddr() string { return pn.addr }

// AdminAddr is the broker's admin listener (/metrics, /readyz).
func (pn *ProcessNode) AdminAddr() string { return pn.adminAddr }

// Proxy is the node's proxy, for rules on its traffic.
func (pn *ProcessNode) Proxy() *Proxy { return pn.proxy }

// Starts counts the runs so far.
func (pn *ProcessNode) Starts() int {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	return pn.starts
}

// Running reports whether the process is alive (stopped by Pause counts as alive).
func (pn *ProcessNode) Running() bool {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	return pn.runningLocked()
}

func (pn *ProcessNode) runningLocked() bool {
	if pn.exited == nil {
		return false
	}
	select {
	case <-pn.exited:
		return false
	default:
		return true
	}
}

// Start runs the binary, again after a Kill or Stop, on the same data directory and
// ports, and waits until /readyz answers 200.
func (pn *ProcessNode) Start() error {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	if pn.runningLocked() {
		return errors.New("faults: waybill is still running")
	}
	values := map[string]string{"group.initial.rebalance.delay.ms": "0"}
	for k, v := range pn.cfg.BrokerConfig {
		values[k] = v
	}
	args := []string{"serve", "--data-dir", pn.cfg.Dir, "--listen", pn.addr, "--admin-listen", pn.adminAddr}
	args = append(args, pn.cfg.Args...)
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		args = append(args, "--set", k+"="+values[k])
	}
	cmd := exec.Command(pn.cfg.Binary, args...)
	cmd.Stderr = pn.cfg.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("faults: starting waybill: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // a killed broker exits with an error; the exit itself is the news
		close(exited)
	}()
	pn.cmd, pn.exited = cmd, exited
	pn.starts++
	if err := pn.waitReadyLocked(processReadyTimeout); err != nil {
		pn.killLocked()
		return err
	}
	return nil
}

// waitReadyLocked polls /readyz until it answers 200, failing early if the process exits.
func (pn *ProcessNode) waitReadyLocked(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	url := "http://" + pn.adminAddr + "/readyz"
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-pn.exited:
			return fmt.Errorf("faults: waybill exited before it was ready (start %d): %v", pn.starts, pn.cmd.ProcessState)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		ready := err == nil && resp.StatusCode == http.StatusOK
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if ready {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("faults: waybill not ready after %v (start %d): last error %v", timeout, pn.starts, err)
		}
		select {
		case <-pn.exited:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL (kill -9) and waits for the process to be gone. Killing a process
// that is not running does nothing.
func (pn *ProcessNode) Kill() error {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	return pn.killLocked()
}

func (pn *ProcessNode) killLocked() error {
	if !pn.runningLocked() {
		return nil
	}
	exited, err := pn.signalExitLocked(syscall.SIGKILL, processExitTimeout)
	if err == nil && !exited {
		err = fmt.Errorf("faults: the killed broker did not exit within %v", processExitTimeout)
	}
	return err
}

// Stop sends SIGTERM, the graceful stop (a cluster node first hands its leaderships over),
// and waits up to timeout for the process to exit. One still running then is killed with
// SIGKILL and reported as an error. Stopping a process that is not running does nothing.
func (pn *ProcessNode) Stop(timeout time.Duration) error {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	if !pn.runningLocked() {
		return nil
	}
	exited, err := pn.signalExitLocked(syscall.SIGTERM, timeout)
	if err != nil || exited {
		return err
	}
	if err := pn.killLocked(); err != nil {
		return err
	}
	return fmt.Errorf("faults: waybill did not stop within %v of SIGTERM; killed it", timeout)
}

// signalExitLocked sends sig to the running process and waits up to timeout for it to
// exit, reporting whether it did.
func (pn *ProcessNode) signalExitLocked(sig syscall.Signal, timeout time.Duration) (exited bool, err error) {
	if err := pn.cmd.Process.Signal(sig); err != nil && pn.runningLocked() {
		return false, fmt.Errorf("faults: %v to waybill: %w", sig, err)
	}
	select {
	case <-pn.exited:
		return true, nil
	case <-time.After(timeout):
		return false, nil
	}
}

// Pause stops the process (SIGSTOP): the kernel still accepts connections and buffers
// what clients send, but nothing is answered and no timer in the broker runs. A signal is
// delivered asynchronously, so Pause waits until every thread has stopped (Linux /proc;
// elsewhere it returns once the signal is sent).
func (pn *ProcessNode) Pause() error {
	if err := pn.signal(syscall.SIGSTOP); err != nil {
		return err
	}
	pn.mu.Lock()
	pid := pn.cmd.Process.Pid
	pn.mu.Unlock()
	return waitStopped(pid, processExitTimeout)
}

// Resume continues a paused process (SIGCONT).
func (pn *ProcessNode) Resume() error { return pn.signal(syscall.SIGCONT) }

func (pn *ProcessNode) signal(sig syscall.Signal) error {
	pn.mu.Lock()
	defer pn.mu.Unlock()
	if !pn.runningLocked() {
		return errors.New("faults: waybill is not running")
	}
	if err := pn.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("faults: %v to waybill: %w", sig, err)
	}
	return nil
}

// Close kills the process if it runs and stops the proxy.
func (pn *ProcessNode) Close() error {
	err := pn.Kill()
	pn.proxy.Close()
	return err
}

// FreeLocalAddr finds a free 127.0.0.1 port for a broker to listen at. The port is
// released before the broker binds it, so another process could take it in between; a
// clash fails loudly at start. It is taken below the kernel's ephemeral range where there
// is one (Linux), as outgoing connections — the cluster's own, while its nodes start —
// take their local ports from that range and could take it otherwise.
func FreeLocalAddr() (string, error) {
	if low := ephemeralLow(); low > minChosenPort+1 {
		for range 100 {
			port := minChosenPort + rand.IntN(low-minChosenPort)
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err == nil {
				ln.Close()
				return ln.Addr().String(), nil
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// minChosenPort is the lowest port FreeLocalAddr picks, above the well-known services.
const minChosenPort = 10000

// ephemeralLow is the first port of the kernel's ephemeral range, 0 if unknown.
func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(data))
	if len(fields) != 2 {
		return 0
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0
	}
	return low
}

// waitStopped waits until every thread of pid is stopped ("T" in /proc/pid/task/*/stat).
func waitStopped(pid int, timeout time.Duration) error {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	deadline := time.Now().Add(timeout)
	for {
		tasks, err := os.ReadDir(dir)
		if err != nil {
			return nil // no /proc: nothing to wait on
		}
		stopped := true
		for _, task := range tasks {
			stat, err := os.ReadFile(filepath.Join(dir, task.Name(), "stat"))
			if err != nil {
				continue // the thread exited
			}
			// pid (comm) state ...: comm may hold spaces and parentheses, the state follows
			// the last ')'.
			if i := bytes.LastIndexByte(stat, ')'); i < 0 || i+2 >= len(stat) || stat[i+2] != 'T' {
				stopped = false
				break
			}
		}
		if stopped {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("faults: waybill (pid %d) not stopped %v after SIGSTOP", pid, timeout)
		}
		time.Sleep(time.Millisecond)
	}
}
