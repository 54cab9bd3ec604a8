package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// runBenchCommand runs the real root command with args and returns stdout and stderr.
func runBenchCommand(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestBenchProduceInProcessWaybillPrintsFigures(t *testing.T) {
	stdout, stderr, err := runBenchCommand(t, "bench", "produce", "--target", "waybill", "--records", "2000",
		"--data-dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	for _, want := range []string{"MB/s", "records/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "waybill", "produce", " 2000 ", "acks=all, idempotent"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchJSONHasLatencies(t *testing.T) {
	stdout, stderr, err := runBenchCommand(t, "bench", "produce", "--target", "kfake", "--records", "500", "--rate", "5", "--json")
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr)
	}
	var report struct {
		Results []struct {
			Phase   string  `json:"phase"`
			Records int64   `json:"records"`
			MBPerS  float64 `json:"mb_per_sec"`
			Latency *struct {
				P99 float64 `json:"p99"`
			} `json:"latency_ms"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(report.Results) != 1 {
		t.Fatalf("want one result, got %s", stdout)
	}
	r := report.Results[0]
	if r.Phase != "produce-rate" || r.Records != 500 || r.MBPerS <= 0 || r.Latency == nil || r.Latency.P99 <= 0 {
		t.Errorf("unexpected result: %s", stdout)
	}
}

func TestBenchRejectsBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "fly", "--target", "kfake"},
		{"bench", "produce", "--target", "nowhere"},
		{"bench", "produce", "--target", "kfake", "--acks", "1", "--idempotent=true"},
		{"bench", "produce", "--target", "kfake", "--compression", "brotli"},
		{"bench", "produce", "--target", "kfake", "--transactional", "--acks", "1"},
		{"bench", "produce", "--target", "kfake", "--compare-idempotent", "--txn-interval", "0s"},
	} {
		if _, _, err := runBenchCommand(t, args...); err == nil {
			t.Errorf("waybill %s succeeded, want an error", strings.Join(args, " "))
		}
	}
}

func TestBenchTransactionalProducePrintsTransactionFigures(t *testing.T) {
	stdout, stderr, err := runBenchCommand(t, "bench", "produce", "--transactional", "--target", "waybill",
		"--records", "2000", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatalf("bench: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	for _, want := range []string{"transactional (txn every 100ms)", "produce txn", " 2000 ",
		"txns committed", "commit mean ms", "commit p99 ms", "aborted"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestBenchCompareIdempotentPrintsOverhead(t *testing.T) {
	stdout, stderr, err := runBenchCommand(t, "bench", "produce", "--compare-idempotent", "--target", "kfake",
		"--records", "1000", "--json")
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr)
	}
	var report struct {
		Results []struct {
			Records       int64 `json:"records"`
			Transactional bool  `json:"transactional"`
			Transactions  *struct {
				Committed int64 `json:"committed"`
			} `json:"transactions"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(report.Results) != 2 || report.Results[0].Transactional || !report.Results[1].Transactional {
		t.Fatalf("want an idempotent then a transactional result, got %s", stdout)
	}
	for _, r := range report.Results {
		if r.Records != 1000 {
			t.Errorf("%d records, want 1000: %s", r.Records, stdout)
		}
	}
	if tx := report.Results[1].Transactions; tx == nil || tx.Committed < 1 {
		t.Errorf("no committed transactions: %s", stdout)
	}
}
