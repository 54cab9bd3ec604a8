package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/waybill/waybill/internal/lab"
)

// runLab runs `waybill lab ...` in-process, bounded in time.
func runLab(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := runCLIContext(ctx, &stdout, &stderr, "", append([]string{"lab"}, args...)...)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

type labJSON struct {
	Seed  int64 `json:"seed"`
	Cells []struct {
		Row, Fault, Verdict string
		Result              struct{ Counts map[string]int }
	} `json:"cells"`
}

func TestLabRunWritesEveryFormat(t *testing.T) {
	dir := t.TempDir()
	html, md := filepath.Join(dir, "m.html"), filepath.Join(dir, "m.md")
	res := runLab(t, "run", "--seed", "5", "--values", "100", "--settings", "acks-1,transactional",
		"--faults", "none,lost-ack", "--json", "-", "--markdown", md, "--html", html)
	if res.err != nil {
		t.Fatalf("lab run: %v\nstderr:\n%s", res.err, res.stderr)
	}
	var rep labJSON
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, res.stdout)
	}
	if rep.Seed != 5 || len(rep.Cells) != 4 {
		t.Fatalf("seed %d, %d cells; want seed 5 and 4 cells", rep.Seed, len(rep.Cells))
	}
	for _, c := range rep.Cells {
		if c.Verdict != string(lab.Holds) {
			t.Errorf("%s × %s: %s", c.Row, c.Fault, c.Verdict)
		}
		if c.Row == "acks=1, retries" && c.Fault == "lost ack" && c.Result.Counts["duplicated"] == 0 {
			t.Errorf("a lost ack without idempotence gave no duplicate")
		}
	}
	if !strings.Contains(res.stderr, "seed 5") || !strings.Contains(res.stderr, "[4/4") {
		t.Errorf("stderr lacks the seed or the progress:\n%s", res.stderr)
	}
	for _, path := range []string{html, md} {
		b, err := os.ReadFile(path)
		if err != nil || !strings.Contains(string(b), "lost ack") {
			t.Errorf("%s: %v, %q...", path, err, string(b)[:min(len(b), 200)])
		}
	}
}

func TestLabVerifyKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(2))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res := runLab(t, "verify", "--brokers", strings.Join(c.ListenAddrs(), ","), "--values", "100",
		"--settings", "idempotent", "--faults", "lost-ack,kill-9", "--no-progress")
	if res.err != nil {
		t.Fatalf("lab verify: %v\nstdout:\n%s\nstderr:\n%s", res.err, res.stdout, res.stderr)
	}
	for _, want := range []string{"lost ack", "✓ exact", "– skipped", "1 hold", "1 skipped"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
}

func TestLabRejectsUnknownNames(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--settings", "acks-2"},
		{"run", "--faults", "meteor"},
		{"run", "--parallel", "-1"},
		{"verify", "--brokers", ","},
	} {
		res := runLab(t, args...)
		if res.err == nil {
			t.Errorf("lab %v succeeded", args)
			continue
		}
		if msg := res.err.Error(); !strings.Contains(msg, "choose from") && !strings.Contains(msg, "--brokers") && !strings.Contains(msg, "--parallel") {
			t.Errorf("lab %v: unhelpful error %q", args, res.err)
		}
	}
}

// A violated guarantee or a cell that could not run fails the command; a weakness that
// did not show is reported but is no failure.
func TestLabExitStatus(t *testing.T) {
	rep := func(vs ...lab.Verdict) *lab.Report {
		r := &lab.Report{}
		for _, v := range vs {
			r.Cells = append(r.Cells, lab.CellResult{Verdict: v})
		}
		return r
	}
	if err := matrixError(rep(lab.Holds, lab.NotReproduced, lab.Skipped)); err != nil {
		t.Errorf("no violation, yet %v", err)
	}
	if err := matrixError(rep(lab.Holds, lab.Violated)); err == nil || !strings.Contains(err.Error(), "violated") {
		t.Errorf("violation: %v", err)
	}
	if err := matrixError(rep(lab.Broken)); err == nil {
		t.Errorf("a broken cell is no failure")
	}
}

// verify names its brokers as the client commands do: --brokers, defaulting to
// $WAYBILL_BROKERS, with --bootstrap (its old name) and --bootstrap-server working but
// unlisted.
func TestLabVerifyTakesBrokers(t *testing.T) {
	t.Setenv("WAYBILL_BROKERS", "")
	verify, _, err := newRootCmd().Find([]string{"lab", "verify"})
	if err != nil {
		t.Fatal(err)
	}
	f := verify.Flag("brokers")
	if f == nil || f.DefValue != defaultBrokers || f.Usage != "comma-separated seed brokers, host:port (env WAYBILL_BROKERS)" {
		t.Fatalf("--brokers: %+v", f)
	}
	var help bytes.Buffer
	verify.SetOut(&help)
	if err := verify.Help(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(help.String(), "--bootstrap") || strings.Count(help.String(), "--brokers string") != 1 {
		t.Errorf("--help should list --brokers once and no alias:\n%s", help.String())
	}

	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	// Only skipped cells: the command still reaches the cluster to set up its proxies,
	// and names it in the report.
	only := []string{"--faults", "kill-9", "--settings", "acks-1", "--no-progress"}
	for _, args := range [][]string{{"--bootstrap", addr}, {"--bootstrap-server", addr}, {}} {
		if len(args) == 0 {
			t.Setenv("WAYBILL_BROKERS", addr)
		}
		res := runLab(t, append(append([]string{"verify"}, args...), only...)...)
		if res.err != nil || !strings.Contains(res.stdout, "target "+addr+")") {
			t.Errorf("lab verify %v: %v\n%s%s", args, res.err, res.stdout, res.stderr)
		}
	}
}

// On a terminal the progress line names every cell running, cut to the terminal's
// width; elsewhere each finished cell gets a line.
func TestLabProgress(t *testing.T) {
	running := []string{"acks=1, retries × lost ack", "acks=0 × none", "transactional × zombie producer"}
	var tty bytes.Buffer
	draw := drawProgress(&tty, 200, true)
	draw(lab.Progress{Done: 12, Total: 55, Running: running})
	if want := regexp.MustCompile(`^\r\033\[K[█░]{30} 12/55 \d+s  running 3: acks=1, retries × lost ack; acks=0 × none; transactional × zombie producer$`); !want.MatchString(tty.String()) {
		t.Errorf("terminal line %q does not match %s", tty.String(), want)
	}
	tty.Reset()
	narrow := drawProgress(&tty, 60, true)
	narrow(lab.Progress{Done: 12, Total: 55, Running: running})
	if line := strings.TrimPrefix(tty.String(), "\r\033[K"); len([]rune(line)) >= 60 || !strings.HasSuffix(line, "…") {
		t.Errorf("line %q not cut to a 60-column terminal", line)
	}

	var log bytes.Buffer
	lines := drawProgress(&log, 0, false)
	lines(lab.Progress{Done: 0, Total: 2, Running: running[:1]})
	cell := lab.CellResult{Row: "acks=0", Fault: "none", Verdict: lab.Holds, Duration: time.Second}
	lines(lab.Progress{Done: 1, Total: 2, Running: running[1:2], Last: &cell})
	if want := regexp.MustCompile(`^\[1/2 \d+s\] acks=0 × none: ✓ exact \(1s\)\n$`); !want.MatchString(log.String()) {
		t.Errorf("log lines %q do not match %s", log.String(), want)
	}
}

// The default target is a fresh 3-node cluster per cell: the same leader isolation
// loses acknowledged values under acks=1 and none under acks=all, both as expected.
func TestLabRunClusterIsolation(t *testing.T) {
	res := runLab(t, "run", "--seed", "3", "--values", "200", "--settings", "acks-1,acks-all",
		"--faults", "leader-isolated-healed", "--json", "-", "--no-progress")
	if res.err != nil {
		t.Fatalf("lab run: %v\nstderr:\n%s", res.err, res.stderr)
	}
	var rep labJSON
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, res.stdout)
	}
	lost := map[string]int{}
	for _, c := range rep.Cells {
		if c.Verdict != string(lab.Holds) {
			t.Errorf("%s × %s: %s", c.Row, c.Fault, c.Verdict)
		}
		lost[c.Row] = c.Result.Counts["lost"]
	}
	if lost["acks=1, retries"] == 0 || lost["acks=all, retries"] != 0 {
		t.Errorf("lost under leader isolation: %v; want some with acks=1 and none with acks=all", lost)
	}
}

// On one node the replication faults cannot apply: asked for, they are listed as skipped
// with the reason, and the run still succeeds.
func TestLabRunOneNodeSkipsReplicationFaults(t *testing.T) {
	res := runLab(t, "run", "--nodes", "1", "--values", "50", "--settings", "acks-1",
		"--faults", "none,slow-follower", "--no-progress")
	if res.err != nil {
		t.Fatalf("lab run: %v\nstderr:\n%s", res.err, res.stderr)
	}
	if !regexp.MustCompile(`slow follower +– skipped`).MatchString(res.stdout) ||
		!strings.Contains(res.stdout, "slow follower skipped (acks=1, retries): needs a replicated cluster of 3 nodes, and the target has 1 (run with --nodes 3)") {
		t.Errorf("the slow follower is not listed as skipped with its reason:\n%s", res.stdout)
	}
	if res := runLab(t, "run", "--nodes", "2"); res.err == nil || !strings.Contains(res.err.Error(), "--nodes must be 1 or 3") {
		t.Errorf("--nodes 2: %v", res.err)
	}
}
