package bench

import (
	"fmt"
	"io"
	"slices"
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
	settings := fmt.Sprintf("acks=%s, %s, replication factor %d", w.Acks, idem, w.ReplicationFactor)
	if w.MinInsyncReplicas > 0 {
		settings += fmt.Sprintf(", min.insync.replicas %d", w.MinInsyncReplicas)
	}
	if len(r.Cases) > 0 {
		settings = "acks, idempotence and replication per case"
		if txn := w.transactionsLabel(); txn != "" {
			settings += ", " + txn
		}
	}
	fmt.Fprintf(out, "workload: %d B records, %d partitions, %d producers, %d consumers, %s, compression %s, linger %s, batch max %d B, %s\n",
		w.RecordSize, w.Partitions, w.Producers, w.Consumers, settings, w.Compression, w.Linger, w.BatchMaxBytes, bound)
	fmt.Fprintf(out, "machine:  %s/%s, %d CPUs, %s (the clients and any brokers started here share these CPUs)\n",
		r.Machine.OS, r.Machine.Arch, r.Machine.CPUs, r.Machine.GoVersion)
	for _, t := range r.Targets {
		fmt.Fprintf(out, "target:   %-8s %s\n", t.Name, t.Details)
	}
	for i, c := range r.Cases {
		fmt.Fprintf(out, "case %d:   %s\n", i+1, c.Name())
	}
	fmt.Fprintln(out)

	if err := r.writeResults(out); err != nil {
		return err
	}
	for _, res := range r.Results {
		if res.FirstError != "" {
			fmt.Fprintf(out, "%s %s%s: first error: %s\n", res.Target, caseLabel(res.Case), phaseLabel(res.Phase, res.Transactional), res.FirstError)
		}
	}
	if err := r.writeTransactions(out); err != nil {
		return err
	}
	if len(r.Cases) > 1 {
		return r.writeCaseComparison(out)
	}
	if len(r.Targets) > 1 {
		fmt.Fprintln(out)
		return r.writeComparison(out)
	}
	return nil
}

// writeResults writes one row per result, with a case column when the run had cases
// and the brokers' CPU when it was measured.
func (r *Report) writeResults(out io.Writer) error {
	withCases := len(r.Cases) > 0
	withCPU := slices.ContainsFunc(r.Results, func(res Result) bool { return res.BrokerCPU != nil })
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := []string{"target"}
	if withCases {
		header = append(header, "case")
	}
	header = append(header, "phase", "records", "MB/s", "records/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors", "seconds")
	if withCPU {
		header = append(header, "broker CPU s", "CPU s/GB")
	}
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, res := range r.Results {
		row := []string{res.Target}
		if withCases {
			row = append(row, res.Case)
		}
		lat := []string{"-", "-", "-", "-"}
		if l := res.Latency; l != nil {
			lat = []string{ms(l.P50), ms(l.P99), ms(l.P999), ms(l.Max)}
		}
		row = append(row, resultPhaseLabel(res), fmt.Sprint(res.Records), fmt.Sprintf("%.1f", res.MBPerSec),
			fmt.Sprintf("%.0f", res.RecordsPerSec))
		row = append(row, lat...)
		row = append(row, fmt.Sprint(res.Errors), fmt.Sprintf("%.2f", res.Seconds))
		if withCPU {
			row = append(row, cpuSeconds(res.BrokerCPU), cpuPerGB(res.BrokerCPU))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	return tw.Flush()
}

// resultPhaseLabel is the phase with its transactions and, at a fixed rate, the rate.
func resultPhaseLabel(res Result) string {
	phase := phaseLabel(res.Phase, res.Transactional)
	if res.TargetMBPerS > 0 {
		phase += fmt.Sprintf(" @%g", res.TargetMBPerS)
	}
	return phase
}

func caseLabel(name string) string {
	if name == "" {
		return ""
	}
	return name + " "
}

func cpuSeconds(c *BrokerCPU) string {
	if c == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", c.Seconds)
}

func cpuPerGB(c *BrokerCPU) string {
	if c == nil || c.SecondsPerGB == 0 {
		return "-"
	}
	return formatMetric(c.SecondsPerGB)
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
