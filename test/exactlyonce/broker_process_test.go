package exactlyonce_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// brokerProcess is the built waybill binary running as a child process on fixed
// 127.0.0.1 ports and a data directory, both kept across kills and restarts.
type brokerProcess struct {
	t          *testing.T
	dataDir    string
	addr       string // Kafka listener
	adminAddr  string // /readyz
	stderrPath string
	cmd        *exec.Cmd
	exited     chan struct{}
	starts     int
}

// startBrokerProcess starts the binary with a fresh data directory and free ports and
// waits until it is ready. It is killed when the test ends; its stderr is logged if the
// test failed or WAYBILL_TEST_LOG is set.
func startBrokerProcess(t *testing.T) *brokerProcess {
	t.Helper()
	dir := t.TempDir()
	bp := &brokerProcess{
		t:          t,
		dataDir:    filepath.Join(dir, "data"),
		addr:       freeLocalAddr(t),
		adminAddr:  freeLocalAddr(t),
		stderrPath: filepath.Join(dir, "stderr.log"),
	}
	t.Cleanup(func() {
		if bp.running() {
			bp.kill()
		}
		if t.Failed() || os.Getenv("WAYBILL_TEST_LOG") != "" {
			bp.logStderr()
		}
	})
	bp.start()
	return bp
}

// Addr is the Kafka listener, host:port.
func (bp *brokerProcess) Addr() string { return bp.addr }

func (bp *brokerProcess) start() {
	bp.t.Helper()
	stderr, err := os.OpenFile(bp.stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		bp.t.Fatal(err)
	}
	defer stderr.Close()
	bp.starts++
	cmd := exec.Command(waybillBinary, "serve",
		"--data-dir", bp.dataDir,
		"--listen", bp.addr,
		"--admin-listen", bp.adminAddr,
		"--set", "group.initial.rebalance.delay.ms=0",
	)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		bp.t.Fatalf("starting waybill: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // a killed broker exits with an error; the exit itself is the news
		close(exited)
	}()
	bp.cmd, bp.exited = cmd, exited
	bp.waitReady(20 * time.Second)
}

// waitReady polls /readyz until it answers 200, failing early if the process exits.
func (bp *brokerProcess) waitReady(timeout time.Duration) {
	bp.t.Helper()
	client := &http.Client{Timeout: time.Second}
	url := "http://" + bp.adminAddr + "/readyz"
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-bp.exited:
			bp.t.Fatalf("waybill exited before it was ready (start %d): %v", bp.starts, bp.cmd.ProcessState)
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
			return
		}
		if time.Now().After(deadline) {
			bp.t.Fatalf("waybill not ready after %v (start %d): last error %v", timeout, bp.starts, err)
		}
		select {
		case <-bp.exited:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (bp *brokerProcess) running() bool {
	if bp.exited == nil {
		return false
	}
	select {
	case <-bp.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (bp *brokerProcess) kill() {
	bp.t.Helper()
	if err := bp.cmd.Process.Signal(syscall.SIGKILL); err != nil && bp.running() {
		bp.t.Fatalf("kill -9 waybill: %v", err)
	}
	select {
	case <-bp.exited:
	case <-time.After(10 * time.Second):
		bp.t.Fatal("the killed broker did not exit within 10s")
	}
}

// restart starts the binary again on the same data directory and ports.
func (bp *brokerProcess) restart() {
	bp.t.Helper()
	if bp.running() {
		bp.t.Fatal("restart: the broker is still running")
	}
	bp.start()
}

// logStderr shows the tail of the broker's stderr, which spans all its runs.
func (bp *brokerProcess) logStderr() {
	data, err := os.ReadFile(bp.stderrPath)
	if err != nil {
		bp.t.Logf("broker stderr: %v", err)
		return
	}
	const tail = 16 << 10
	if len(data) > tail {
		data = data[bytes.IndexByte(data[len(data)-tail:], '\n')+len(data)-tail+1:]
	}
	bp.t.Logf("broker stderr (tail, %d starts):\n%s", bp.starts, data)
}

// freeLocalAddr finds a free 127.0.0.1 port. The port is released before the broker
// binds it, so another process could take it in between; a clash fails loudly at start.
func freeLocalAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
