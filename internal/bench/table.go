package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report for a terminal: the workload, the targets, then one row
// per target and phase; with more than one target, a side-by-side comparison follows.
func (r *Report) WriteTable(out io.Writer) error {
	w := r.Workload
	idem := "idempotent"
	if !w.Idempotent {
		idem = "not idempotent"
	}
	if txn := w.transactionsLabel(); txn != "" {
		idem += ", " + txn
	}
	bound := w.Duration + " per phase"
	if w.Records > 0 {
		bound = fmt.Sprintf("%d records per phase", w.Records)
	}
	fmt.Fprintf(out, "workload: %d B records, %d partitions, %d producers, %d consumers, acks=%s, %s, compression %s, linger %s, batch max %d B, %s\n",
		w.RecordSize, w.Partitions, w.Producers, w.Consumers, w.Acks, idem, w.Compression, w.Linger, w.BatchMaxBytes, bound)
	fmt.Fprintf(out, "machine:  %s/%s, %d CPUs, %s (clients and in-process brokers share these CPUs)\n",
		r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GoVersion)
	for _, t := range r.Targets {
		fmt.Fprintf(out, "target:   %-8s %s\n", t.Name, t.Details)
	}
	fmt.Fprintln(out)

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\tphase\trecords\tMB/s\trecords/s\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tseconds\t")
	for _, res := range r.Results {
		phase := phaseLabel(res.Phase, res.Transactional)
		if res.TargetMBPerS > 0 {
			phase += fmt.Sprintf(" @%g", res.TargetMBPerS)
		}
		lat := []string{"-", "-", "-", "-"}
		if l := res.Latency; l != nil {
			lat = []string{ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max)}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.0f\t%s\t%d\t%.2f\t\n", res.Target, phase, res.Records,
			res.MBPerSec, res.RecordsPerSec, strings.Join(lat, "\t"), res.Errors, res.Seconds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, res := range r.Results {
		if res.FirstError != "" {
			fmt.Fprintf(out, "%s %s: first error: %s\n", res.Target, phaseLabel(res.Phase, res.Transactional), res.FirstError)
		}
	}
	if err := r.writeTransactions(out); err != nil {
		return err
	}
	if len(r.Targets) > 1 {
		fmt.Fprintln(out)
		return r.writeComparison(out)
	}
	return nil
}

func ms(v float64) string { return fmt.Sprintf("%.2f", v) }

// comparedMetric is one row of the side-by-side table.
type comparedMetric struct {
	phase Phase
	name  string
	value func(Result) (float64, bool)
}

var comparedMetrics = []comparedMetric{
	{PhaseProduce, "produce MB/s", func(r Result) (float64, bool) { return r.MBPerSec, true }},
	{PhaseProduce, "produce records/s", func(r Result) (float64, bool) { return r.RecordsPerSec, true }},
	{PhaseProduceRate, "fixed-rate MB/s achieved", func(r Result) (float64, bool) { return r.MBPerSec, true }},
	{PhaseProduceRate, "fixed-rate p50 ms", latency(func(l *Latency) float64 { return l.P50 })},
	{PhaseProduceRate, "fixed-rate p99 ms", latency(func(l *Latency) float64 { return l.P99 })},
	{PhaseProduceRate, "fixed-rate p99.9 ms", latency(func(l *Latency) float64 { return l.P999 })},
	{PhaseProduceRate, "fixed-rate max ms", latency(func(l *Latency) float64 { return l.Max })},
	{PhaseConsume, "consume MB/s", func(r Result) (float64, bool) { return r.MBPerSec, true }},
	{PhaseConsume, "consume records/s", func(r Result) (float64, bool) { return r.RecordsPerSec, true }},
}

func latency(pick func(*Latency) float64) func(Result) (float64, bool) {
	return func(r Result) (float64, bool) {
		if r.Latency == nil {
			return 0, false
		}
		return pick(r.Latency), true
	}
}

// writeComparison prints one row per metric and one column per target, plus the ratio
// of the first target to the second.
func (r *Report) writeComparison(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "metric\t"
	for _, t := range r.Targets {
		header += t.Name + "\t"
	}
	fmt.Fprintf(tw, "%s%s/%s\t\n", header, r.Targets[0].Name, r.Targets[1].Name)
	for _, metric := range comparedMetrics {
		values := make([]float64, len(r.Targets))
		found := 0
		row := metric.name + "\t"
		for i, t := range r.Targets {
			res, ok := r.result(t.Name, metric.phase)
			v, has := 0.0, false
			if ok {
				v, has = metric.value(res)
			}
			if !has {
				row += "-\t"
				continue
			}
			values[i] = v
			found++
			row += formatMetric(v) + "\t"
		}
		if found == 0 {
			continue
		}
		ratio := "-"
		if found == len(r.Targets) && values[1] != 0 {
			ratio = fmt.Sprintf("%.2fx", values[0]/values[1])
		}
		fmt.Fprintf(tw, "%s%s\t\n", row, ratio)
	}
	return tw.Flush()
}

func formatMetric(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// result finds the measured (last) result of a phase for a target; a consume run's
// preload produce comes before any explicit produce, so the last one is the one asked for.
func (r *Report) result(target string, phase Phase) (Result, bool) {
	var found Result
	ok := false
	for _, res := range r.Results {
		if res.Target == target && res.Phase == phase {
			found, ok = res, true
		}
	}
	return found, ok
}
