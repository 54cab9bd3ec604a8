package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// childTag marks this test's children: the bench's brokers inherit the environment, so
// any process that has the tag and is not this one is a broker that outlived the bench
// (or its child), whoever its parent is now.
func childTag(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("finds leftover processes through /proc")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	value := hex.EncodeToString(b)
	t.Setenv(runAsWaybill, "1")
	t.Setenv("BENCH_TEST_CHILD_TAG", value)
	return "BENCH_TEST_CHILD_TAG=" + value
}

// processesTagged lists the pids, other than this process, whose environment holds tag.
func processesTagged(tag string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == tag {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func wantNoChildrenLeft(t *testing.T, tag, dataDir string) {
	t.Helper()
	if pids := processesTagged(tag); len(pids) > 0 {
		t.Errorf("broker processes still running after the bench: %v", pids)
	}
	if left, _ := os.ReadDir(dataDir); len(left) > 0 {
		t.Errorf("the cluster's data is left in %s: %v", dataDir, left)
	}
}

// A bench of a three-node cluster compares two cases: both appear in the comparison
// with throughput and broker CPU figures, and no broker outlives the command.
func TestBenchNodesComparesCasesAndStopsItsBrokers(t *testing.T) {
	tag := childTag(t)
	dir := t.TempDir()
	stdout, stderr, err := runBenchCommand(t, "bench", "produce", "--nodes", "3", "--data-dir", dir,
		"--duration", "1s", "--partitions", "4", "--producers", "2",
		"--case", "rf=1,acks=all", "--case", "rf=3,acks=all,min-isr=2")
	if err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	wantNoChildrenLeft(t, tag, dir)
	for _, want := range []string{"3 waybill serve processes", "broker CPU s", "cases on cluster"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	_, comparison, _ := strings.Cut(stdout, "cases on cluster")
	for _, name := range []string{"rf=1,acks=all", "rf=3,acks=all,min-isr=2"} {
		row := comparisonRow(comparison, "produce", name)
		if row == nil {
			t.Errorf("comparison lacks case %s:\n%s", name, stdout)
			continue
		}
		// phase, case, MB/s, vs first, p50, p99, CPU s/GB, vs first
		for _, i := range []int{2, 6} {
			if v, err := strconv.ParseFloat(row[i], 64); err != nil || v <= 0 {
				t.Errorf("case %s: column %d is %q, want a positive figure:\n%s", name, i, row[i], stdout)
			}
		}
	}
}

// comparisonRow finds the row of a phase and case in the case comparison.
func comparisonRow(table, phase, name string) []string {
	for _, line := range strings.Split(table, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 8 && fields[0] == phase && fields[1] == name {
			return fields
		}
	}
	return nil
}

// Ctrl-C (the command's context ending) while the load runs stops every broker.
func TestBenchNodesInterruptedStopsItsBrokers(t *testing.T) {
	tag := childTag(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	progress := &watchWriter{want: "rf=3,acks=1", seen: make(chan struct{})}
	go func() {
		select {
		case <-progress.seen: // the load has run for a second
			cancel()
		case <-ctx.Done():
		}
	}()
	var stdout bytes.Buffer
	root := newRootCmd()
	root.SetOut(&stdout)
	root.SetErr(progress)
	root.SetArgs([]string{"bench", "produce", "--nodes", "3", "--data-dir", dir, "--duration", "30s",
		"--partitions", "4", "--producers", "2", "--case", "rf=3,acks=1"})
	began := time.Now()
	err := root.ExecuteContext(ctx)
	if err == nil {
		t.Fatalf("an interrupted bench succeeded\n%s", stdout.String())
	}
	if took := time.Since(began); took > 45*time.Second {
		t.Errorf("the interrupted bench took %v", took)
	}
	wantNoChildrenLeft(t, tag, dir)
}

// watchWriter collects what is written and closes seen once want has appeared.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func TestBenchRejectsClusterSettings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nodes", "1", "--case", "rf=1", "--case", "rf=3,acks=all,min-isr=2"},
			"replication factor 3 needs at least 3 brokers, but the cluster target has 1"},
		{[]string{"--nodes", "2", "--replication-factor", "3"}, "replication factor 3 needs at least 3 brokers"},
		{[]string{"--target", "waybill", "--replication-factor", "2"}, "start a cluster of processes with --nodes 2"},
		{[]string{"--target", "kfake", "--case", "rf=2"}, "needs at least 2 brokers"},
		{[]string{"--nodes", "-1"}, "--nodes must be at least 1"},
		{[]string{"--nodes", "3", "--target", "kfake"}, "cannot go with --target"},
		{[]string{"--nodes", "3", "--compare"}, "cannot go with --target, --brokers or --compare"},
		{[]string{"--nodes", "3", "--keep"}, "--keep has no effect"},
		{[]string{"--target", "kfake", "--broker-binary", "/bin/true"}, "give --nodes too"},
		{[]string{"--target", "external", "--durable-acks=false"}, "--durable-acks configures the brokers bench starts"},
		{[]string{"--nodes", "3", "--case", "rf=3,min-isr=4"}, "min.insync.replicas 4 is above the replication factor 3"},
		{[]string{"--nodes", "3", "--min-insync-replicas", "2"}, "min.insync.replicas 2 is above the replication factor 1"},
		{[]string{"--nodes", "3", "--case", "rf=x"}, `case "rf=x": rf`},
		{[]string{"--nodes", "3", "--case", "replicas=3"}, `unknown key "replicas"`},
		{[]string{"--nodes", "3", "--case", "rf=3,acks=2"}, "case rf=3,acks=2"},
		{[]string{"--nodes", "3", "--case", "acks=1,idempotent=true"}, "idempotent producing needs acks=all"},
		{[]string{"--nodes", "3", "--topic", "t", "--case", "rf=1", "--case", "rf=3"}, "a fresh topic each"},
		{[]string{"--target", "kfake", "--rate", "fast"}, "not a rate in MB/s"},
	} {
		args := append([]string{"bench", "produce"}, tc.args...)
		_, _, err := runBenchCommand(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("waybill %s: error %v, want one saying %q", strings.Join(args, " "), err, tc.want)
		}
	}
}

func TestBenchRateTakesUnits(t *testing.T) {
	for in, want := range map[string]float64{"20": 20, "20MB/s": 20, "2.5 MB/s": 2.5, "7mb": 7, "0": 0} {
		var v float64
		if err := (rateValue{&v}).Set(in); err != nil || v != want {
			t.Errorf("--rate %q: %v, %v; want %v", in, v, err, want)
		}
	}
	for _, in := range []string{"", "MB/s", "-1", "20 GB/s"} {
		var v float64
		if err := (rateValue{&v}).Set(in); err == nil {
			t.Errorf("--rate %q was accepted as %v", in, v)
		}
	}
}
