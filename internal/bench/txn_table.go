package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// phaseLabel names a phase in tables and progress lines; "produce txn" is a produce
// phase with transactional clients, "consume txn" a read_committed consume after one.
func phaseLabel(phase Phase, transactional bool) string {
	if transactional {
		return string(phase) + " txn"
	}
	return string(phase)
}

// transactionsLabel describes the transactional settings for the workload line.
func (w WorkloadInfo) transactionsLabel() string {
	switch {
	case w.CompareIdempotent:
		return fmt.Sprintf("idempotent then transactional (txn every %s)", w.TxnInterval)
	case w.Transactional:
		return fmt.Sprintf("transactional (txn every %s)", w.TxnInterval)
	}
	return ""
}

// writeTransactions prints the transactions' own figures, then, when both modes ran,
// the overhead of transactions over idempotent producing on each target.
func (r *Report) writeTransactions(out io.Writer) error {
	header := false
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, res := range r.Results {
		t := res.Transactions
		if t == nil {
			continue
		}
		if !header {
			fmt.Fprintln(out)
			fmt.Fprintln(tw, "target\tphase\ttxns committed\ttxns/s\taborted\tcommit mean ms\tcommit p99 ms\tcommit max ms\ttxn length ms\t")
			header = true
		}
		commit := []string{"-", "-", "-"}
		if l := t.CommitLatency; l != nil {
			commit = []string{ms(l.Mean), ms(l.P99), ms(l.Max)}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%d\t%s\t%s\t%s\t%.1f\t\n", res.Target, phaseLabel(res.Phase, true),
			t.Committed, t.CommittedPerSec, t.Aborted, commit[0], commit[1], commit[2], t.MeanLengthMs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.writeTransactionOverhead(out)
}

// writeTransactionOverhead compares, per target and produce phase, the idempotent
// result with the transactional one: overhead = 1 - transactional / idempotent MB/s.
func (r *Report) writeTransactionOverhead(out io.Writer) error {
	header := false
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, t := range r.Targets {
		for _, phase := range []Phase{PhaseProduce, PhaseProduceRate} {
			idem, okIdem := r.resultOfMode(t.Name, phase, false)
			txn, okTxn := r.resultOfMode(t.Name, phase, true)
			if !okIdem || !okTxn || idem.MBPerSec == 0 {
				continue
			}
			if !header {
				fmt.Fprintln(out)
				fmt.Fprintln(tw, "target\tphase\tidempotent MB/s\ttransactional MB/s\toverhead %\tidempotent p99 ms\ttransactional p99 ms\t")
				header = true
			}
			overhead := 100 * (1 - txn.MBPerSec/idem.MBPerSec)
			fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%s\t\n", t.Name, phase, idem.MBPerSec, txn.MBPerSec,
				overhead, p99(idem.Latency), p99(txn.Latency))
		}
	}
	return tw.Flush()
}

func p99(l *Latency) string {
	if l == nil {
		return "-"
	}
	return ms(l.P99)
}

// resultOfMode finds the last result of a phase for a target with or without
// transactions.
func (r *Report) resultOfMode(target string, phase Phase, transactional bool) (Result, bool) {
	var found Result
	ok := false
	for _, res := range r.Results {
		if res.Target == target && res.Phase == phase && res.Transactional == transactional {
			found, ok = res, true
		}
	}
	return found, ok
}
