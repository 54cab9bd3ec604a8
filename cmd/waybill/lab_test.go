package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	res := runLab(t, "verify", "--bootstrap", strings.Join(c.ListenAddrs(), ","), "--values", "100",
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
		{"verify"},
	} {
		res := runLab(t, args...)
		if res.err == nil {
			t.Errorf("lab %v succeeded", args)
			continue
		}
		if !strings.Contains(res.err.Error(), "choose from") && !strings.Contains(res.err.Error(), "--bootstrap") {
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
