package testbroker

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Process is the built waybill binary running as a child process on fixed 127.0.0.1
// ports and a data directory, both kept across kills and restarts: the broker for tests
// that kill -9 it.
type Process struct {
	t          testing.TB
	binary     string
	dataDir    string
	addr       string // Kafka listener
	adminAddr  string // /readyz
	stderrPath string
	cmd        *exec.Cmd
	exited     chan struct{}
	starts     int
}

// StartProcess starts binary (see BuildBinary) with a fresh data directory and free
// ports and waits until it is ready. It is killed when the test ends; its stderr is
// logged if the test failed or WAYBILL_TEST_LOG is set.
func StartProcess(t testing.TB, binary string) *Process {
	t.Helper()
	dir := t.TempDir()
	bp := &Process{
		t:          t,
		binary:     binary,
		dataDir:    filepath.Join(dir, "data"),
		addr:       freeLocalAddr(t),
		adminAddr:  freeLocalAddr(t),
		stderrPath: filepath.Join(dir, "stderr.log"),
	}
	t.Cleanup(func() {
		if bp.Running() {
			bp.Kill()
		}
		if t.Failed() || os.Getenv("WAYBILL_TEST_LOG") != "" {
			bp.logStderr()
		}
	})
	bp.start()
	return bp
}

// Addr is the Kafka listener, host:port.
func (bp *Process) Addr() string { return bp.addr }

func (bp *Process) start() {
	bp.t.Helper()
	stderr, err := os.OpenFile(bp.stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		bp.t.Fatal(err)
	}
	defer stderr.Close()
	bp.starts++
	cmd := exec.Command(bp.binary, "serve",
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
func (bp *Process) waitReady(timeout time.Duration) {
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

// Running reports whether the process is alive.
func (bp *Process) Running() bool {
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

// Kill sends SIGKILL and waits for the process to be gone.
func (bp *Process) Kill() {
	bp.t.Helper()
	if err := bp.cmd.Process.Signal(syscall.SIGKILL); err != nil && bp.Running() {
		bp.t.Fatalf("kill -9 waybill: %v", err)
	}
	select {
	case <-bp.exited:
	case <-time.After(10 * time.Second):
		bp.t.Fatal("the killed broker did not exit within 10s")
	}
}

// Restart starts the binary again, after Kill, on the same data directory and ports.
func (bp *Process) Restart() {
	bp.t.Helper()
	if bp.Running() {
		bp.t.Fatal("restart: the broker is still running")
	}
	bp.start()
}

// logStderr shows the tail of the broker's stderr, which spans all its runs.
func (bp *Process) logStderr() {
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
func freeLocalAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// BuildBinary builds ./cmd/waybill from the module root into dir and returns its path.
func BuildBinary(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	bin := filepath.Join(dir, "waybill")
	build := exec.Command("go", "build", "-o", bin, "./cmd/waybill")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/waybill: %w\n%s", err, out)
	}
	return bin, nil
}

// RunWithBinary is a TestMain body for packages that start broker processes: it builds
// the binary once into a temporary directory, stores its path in *binary, and runs the
// tests.
func RunWithBinary(m *testing.M, binary *string) int {
	dir, err := os.MkdirTemp("", "waybill-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *binary, err = BuildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
