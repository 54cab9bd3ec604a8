package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/testbroker"
)

// devClusterProcess runs `waybill dev cluster` as a child process, as a person would.
type devClusterProcess struct {
	cmd    *exec.Cmd
	up     chan string // the brokers list, once the cluster is up
	exited chan error
	output *bytes.Buffer
}

func startDevCluster(t *testing.T, binary string, args ...string) *devClusterProcess {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"dev", "cluster", "--broker-binary", binary}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	output := &bytes.Buffer{}
	cmd.Stderr = output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devClusterProcess{cmd: cmd, up: make(chan string, 1), exited: make(chan error, 1), output: output}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if brokers, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "--brokers "); ok {
				p.up <- brokers
			}
		}
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

// waitUp returns the brokers list the command printed, failing after 2 minutes.
func (p *devClusterProcess) waitUp(t *testing.T) string {
	t.Helper()
	select {
	case brokers := <-p.up:
		return brokers
	case err := <-p.exited:
		t.Fatalf("dev cluster exited before it was up: %v\n%s", err, p.output)
	case <-time.After(2 * time.Minute):
		t.Fatalf("dev cluster not up within 2 minutes\n%s", p.output)
	}
	return ""
}

// interrupt sends Ctrl-C and waits for a clean exit, failing after 40 s.
func (p *devClusterProcess) interrupt(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("dev cluster exited with %v after Ctrl-C\n%s", err, p.output)
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("dev cluster still running 40 s after Ctrl-C\n%s", p.output)
	}
}

// freeBasePort finds a base port whose whole layout for n nodes is free now.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for range 20 {
		d := devCluster{nodes: n, basePort: 20000 + rand.IntN(30000)}
		if d.portsFree() == nil {
			return d.basePort
		}
	}
	t.Fatal("no free base port found")
	return 0
}

// A person runs `waybill dev cluster`, looks at it with `waybill cluster status`, stops it
// with Ctrl-C and starts it again from the same data.
func TestDevClusterStartsStopsAndStartsAgain(t *testing.T) {
	binary, err := testbroker.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"--nodes", "3", "--data-dir", dir, "--base-port", fmt.Sprint(freeBasePort(t, 3))}

	dev := startDevCluster(t, binary, args...)
	brokers := dev.waitUp(t)
	if len(strings.Split(brokers, ",")) != 3 {
		t.Fatalf("brokers list %q", brokers)
	}
	mustRun(t, brokers, "", "topic", "create", "kept", "-p", "3")
	status := mustRun(t, brokers, "", "cluster", "status")
	leaders := 0
	for _, id := range []string{"1", "2", "3"} {
		switch {
		case hasRowLoose(status, id, "leader"):
			leaders++
		case !hasRowLoose(status, id, "voter"):
			t.Errorf("cluster status does not show node %s as a voter:\n%s", id, status)
		}
	}
	if leaders != 1 || !hasRowLoose(status, "offline", "0", "-") {
		t.Errorf("cluster status shows %d leaders, or partitions offline:\n%s", leaders, status)
	}
	if strings.Count(status, "unfenced") != 3 || !hasRowLoose(status, "BROKER", "ADDRESS", "RACK", "EPOCH", "STATUS") {
		t.Errorf("cluster status does not show 3 unfenced brokers with their epochs:\n%s", status)
	}
	dev.interrupt(t)

	dev = startDevCluster(t, binary, args...)
	brokers = dev.waitUp(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runCLIContext(ctx, &out, &out, "", "topic", "list", "--brokers", brokers); err != nil {
		t.Fatal(err)
	}
	wantRow(t, out.String(), "kept", "3", "1")
	dev.interrupt(t)
}

// hasRowLoose reports whether some line starts with cells, in order, as its first cells.
func hasRowLoose(out string, cells ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= len(cells) && strings.Join(fields[:len(cells)], " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}
