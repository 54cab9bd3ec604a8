package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkProduce produces b.N 1 KiB records (acks=all, idempotent, 16 partitions, 4
// clients) to an in-process Waybill broker with its durable defaults. ns/op and MB/s
// include topic creation; produce-MB/s and p99-ms are the phase's own figures.
//
//	go test -run '^$' -bench BenchmarkProduce -benchtime 200000x ./internal/bench
func BenchmarkProduce(b *testing.B) {
	c, err := Start(context.Background(), TargetWaybill, TargetOptions{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := DefaultWorkload()
	w.Records = int64(b.N)
	w.Duration = 0
	w.ProgressEvery = 0
	b.SetBytes(int64(w.RecordSize))
	b.ResetTimer()
	results, err := Run(context.Background(), c, w, []Phase{PhaseProduce}, nil)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	res := results[0]
	if res.Errors > 0 {
		b.Fatalf("%d records failed, first: %s", res.Errors, res.FirstError)
	}
	b.ReportMetric(res.MBPerSec, "produce-MB/s")
	if res.Latency != nil {
		b.ReportMetric(res.Latency.P99, "p99-ms")
	}
}

// TestAllPhasesOnBothInProcessTargets runs a tiny compare and checks every phase moved
// every record; it asserts nothing about speed.
func TestAllPhasesOnBothInProcessTargets(t *testing.T) {
	w := DefaultWorkload()
	w.Partitions = 4
	w.Records = 400
	w.Duration = 0
	w.RateMBps = 2
	w.ProgressEvery = 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	phases, err := PhasesFor("all", false)
	if err != nil {
		t.Fatal(err)
	}
	report, err := RunTargets(ctx, []Target{TargetWaybill, TargetKfake}, TargetOptions{DataDir: t.TempDir()}, w, phases, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(report.Results) != 6 {
		t.Fatalf("got %d results, want 3 phases x 2 targets: %+v", len(report.Results), report.Results)
	}
	for _, res := range report.Results {
		// A consume reads whole fetches, so it may read past the count it waits for.
		short := res.Records < w.Records || res.Phase != PhaseConsume && res.Records != w.Records
		if res.Errors > 0 || short {
			t.Errorf("%s %s: %d records, %d errors (%s)", res.Target, res.Phase, res.Records, res.Errors, res.FirstError)
		}
		if res.Phase != PhaseConsume && res.Latency == nil {
			t.Errorf("%s %s: no latency", res.Target, res.Phase)
		}
	}
	var table bytes.Buffer
	if err := report.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"fixed-rate p99 ms", "consume MB/s", "waybill/kfake"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

func TestSplitPartitions(t *testing.T) {
	shares := splitPartitions([]int32{0, 1, 2, 3, 4}, 2)
	if len(shares) != 2 || len(shares[0]) != 3 || len(shares[1]) != 2 {
		t.Errorf("5 partitions over 2 clients: %v", shares)
	}
	if shares := splitPartitions([]int32{0}, 4); len(shares) != 1 {
		t.Errorf("1 partition over 4 clients: %v", shares)
	}
}
