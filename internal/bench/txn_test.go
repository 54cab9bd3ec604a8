package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestTransactionalPhasesCountCommittedRecords runs every phase idempotent and then
// transactional on both in-process targets and checks that each moved every record, that
// transactions committed, and that the consume after transactions (which reads
// committed only and skips the markers) stops on its own.
func TestTransactionalPhasesCountCommittedRecords(t *testing.T) {
	w := DefaultWorkload()
	w.Partitions = 4
	w.Records = 400
	w.Duration = 0
	w.RateMBps = 2
	w.TxnInterval = 20 * time.Millisecond
	w.CompareIdempotent = true
	w.ProgressEvery = 0
	w.RequestTimeouts = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	phases, err := PhasesFor("all", false)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	report, err := RunTargets(ctx, []Target{TargetWaybill, TargetKfake}, TargetOptions{DataDir: t.TempDir()}, w, phases, nil)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(started); took > w.RequestTimeouts {
		t.Errorf("took %s: a consume waited for records that never came", took)
	}
	if len(report.Results) != 12 {
		t.Fatalf("got %d results, want 3 phases x 2 modes x 2 targets", len(report.Results))
	}
	for _, res := range report.Results {
		short := res.Records < w.Records || res.Phase != PhaseConsume && res.Records != w.Records
		if res.Errors > 0 || short {
			t.Errorf("%s %s: %d records, %d errors (%s)", res.Target, phaseLabel(res.Phase, res.Transactional), res.Records, res.Errors, res.FirstError)
		}
		if res.Transactional && res.Phase != PhaseConsume && (res.Transactions == nil || res.Transactions.Committed < 1) {
			t.Errorf("%s %s: no committed transactions: %+v", res.Target, res.Phase, res.Transactions)
		}
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"produce-rate txn", "txns committed", "overhead %"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}
