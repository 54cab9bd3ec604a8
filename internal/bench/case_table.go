package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
)

// writeCaseComparison prints, for each target, one block per phase with a row per case:
// throughput, latency and the brokers' CPU per GB, each ratio against the block's first
// row (the first case), so that "what does RF=3 cost" reads off one column.
func (r *Report) writeCaseComparison(out io.Writer) error {
	for _, t := range r.Targets {
		var blocks []string // phase labels, in the order the run met them
		rows := map[string][]Result{}
		for _, res := range r.Results {
			if res.Target != t.Name || res.Case == "" {
				continue
			}
			label := resultPhaseLabel(res)
			if _, ok := rows[label]; !ok {
				blocks = append(blocks, label)
			}
			rows[label] = append(rows[label], res)
		}
		if len(blocks) == 0 {
			continue
		}
		fmt.Fprintf(out, "\ncases on %s, against the first case", t.Name)
		if slices.ContainsFunc(r.Results, func(res Result) bool { return res.BrokerCPU != nil }) {
			fmt.Fprint(out, "; CPU is the broker processes' user+system seconds per GB acknowledged (read, for consume)")
		}
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "phase\tcase\tMB/s\tvs first\tp50 ms\tp99 ms\tCPU s/GB\tvs first\t")
		for _, label := range blocks {
			first := rows[label][0]
			for _, res := range rows[label] {
				p50, p99 := "-", "-"
				if l := res.Latency; l != nil {
					p50, p99 = ms(l.P50), ms(l.P99)
				}
				fmt.Fprintf(tw, "%s\t%s\t%.1f\t%s\t%s\t%s\t%s\t%s\t\n", label, res.Case, res.MBPerSec,
					ratio(res.MBPerSec, first.MBPerSec), p50, p99, cpuPerGB(res.BrokerCPU),
					cpuRatio(res.BrokerCPU, first.BrokerCPU))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// ratio is v over base as "1.23x", or "-" without a base.
func ratio(v, base float64) string {
	if base == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", v/base)
}

// cpuRatio compares CPU per GB, "-" when either was not measured.
func cpuRatio(c, base *BrokerCPU) string {
	if c == nil || base == nil || c.SecondsPerGB == 0 {
		return "-"
	}
	return ratio(c.SecondsPerGB, base.SecondsPerGB)
}
