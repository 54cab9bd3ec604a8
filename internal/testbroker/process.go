package testbroker

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/faults"
)

// Process is the built waybill binary running as a child process on fixed 127.0.0.1
// ports and a data directory, both kept across kills and restarts: the broker for tests
// that kill -9 it. It is a testing wrapper around faults.ProcessNode, whose proxy it
// leaves idle: Addr is the broker's own listener.
type Process struct {
	t          testing.TB
	node       *faults.ProcessNode
	stderrPath string
}

// StartProcess starts binary (see BuildBinary) with a fresh data directory and free
// ports and waits until it is ready. It is killed when the test ends; its stderr is
// logged if the test failed or WAYBILL_TEST_LOG is set.
func StartProcess(t testing.TB, binary string) *Process {
	t.Helper()
	dir := t.TempDir()
	bp := &Process{t: t, stderrPath: filepath.Join(dir, "stderr.log")}
	stderr, err := os.OpenFile(bp.stderrPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if bp.node != nil {
			if err := bp.node.Close(); err != nil {
				t.Error(err)
			}
		}
		stderr.Close()
		if t.Failed() || os.Getenv("WAYBILL_TEST_LOG") != "" {
			bp.logStderr()
		}
	})
	bp.node, err = faults.StartProcessNode(faults.ProcessConfig{
		Binary: binary,
		Dir:    filepath.Join(dir, "data"),
		Stderr: stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	return bp
}

// Addr is the Kafka listener, host:port.
func (bp *Process) Addr() string { return bp.node.BrokerAddr() }

// Running reports whether the process is alive.
func (bp *Process) Running() bool { return bp.node.Running() }

// Kill sends SIGKILL and waits for the process to be gone.
func (bp *Process) Kill() {
	bp.t.Helper()
	if err := bp.node.Kill(); err != nil {
		bp.t.Fatal(err)
	}
}

// Restart starts the binary again, after Kill, on the same data directory and ports.
func (bp *Process) Restart() {
	bp.t.Helper()
	if err := bp.node.Start(); err != nil {
		bp.t.Fatal(err)
	}
}

// logStderr shows the tail of the broker's stderr, which spans all its runs.
func (bp *Process) logStderr() {
	starts := 0
	if bp.node != nil {
		starts = bp.node.Starts()
	}
	LogStderrTail(bp.t, "broker", bp.stderrPath, starts)
}

// LogStderrTail logs the last 16 KiB of a broker's stderr file, from a line start.
func LogStderrTail(t testing.TB, name, path string, starts int) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s stderr: %v", name, err)
		return
	}
	const tail = 16 << 10
	if len(data) > tail {
		data = data[bytes.IndexByte(data[len(data)-tail:], '\n')+len(data)-tail+1:]
	}
	t.Logf("%s stderr (tail, %d starts):\n%s", name, starts, data)
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
