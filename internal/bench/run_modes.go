package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// compareWarmUp bounds the unmeasured produce that runs before a comparison (cases, or
// idempotent versus transactional): on a freshly started broker the first phase is
// markedly slower than the ones after it, which would count against whatever ran first.
const compareWarmUp = 3 * time.Second

// runCases runs the phases against a started cluster for each case of the workload (or
// its own settings alone), each case on a topic of its own, after one warm-up when
// the run compares anything.
func runCases(ctx context.Context, c *Cluster, w Workload, phases []Phase, progress io.Writer) ([]Result, error) {
	cases := w.cases()
	if len(cases) > 1 || w.CompareIdempotent {
		if err := warmUpTarget(ctx, c, w.withCase(cases[0]), progress); err != nil {
			return nil, err
		}
	}
	var results []Result
	for _, cs := range cases {
		cw := w
		if len(w.Cases) > 0 {
			cw = w.withCase(cs)
		}
		res, err := runModes(ctx, c, cw, phases, progress)
		results = append(results, res...)
		if err != nil {
			return results, err
		}
	}
	return results, nil
}

// runModes runs the phases against a started cluster once, or, with
// CompareIdempotent, twice back to back: idempotent producers, then transactional ones,
// each on a topic of its own (a fresh one unless the workload names a topic).
func runModes(ctx context.Context, c *Cluster, w Workload, phases []Phase, progress io.Writer) ([]Result, error) {
	if !w.CompareIdempotent {
		return Run(ctx, c, w, phases, progress)
	}
	results, err := Run(ctx, c, w.withTransactions(false), phases, progress)
	if err != nil {
		return results, err
	}
	txnResults, err := Run(ctx, c, w.withTransactions(true), phases, progress)
	return append(results, txnResults...), err
}

// warmUpTarget produces (closed loop, idempotent) to a throwaway topic for up to
// compareWarmUp, or w.Records records when the phases are bounded by count, and
// discards the result.
func warmUpTarget(ctx context.Context, c *Cluster, w Workload, progress io.Writer) error {
	warm := w.withTransactions(false)
	warm.Topic, warm.Keep, warm.ProgressEvery = "", false, 0
	if warm.Records <= 0 {
		warm.Duration = min(warm.Duration, compareWarmUp)
	}
	if progress != nil {
		fmt.Fprintf(progress, "%-8s warm-up produce for %s, not measured\n", c.Target, warm.Duration)
	}
	if _, err := Run(ctx, c, warm, []Phase{PhaseProduce}, nil); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	return nil
}
