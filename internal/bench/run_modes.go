package bench

import (
	"context"
	"fmt"
	"io"
	"time"
)

// compareWarmUp bounds the unmeasured produce that runs before an idempotent versus
// transactional comparison: on a freshly started in-process broker the first phase is
// markedly slower than the ones after it, which would count against whichever mode ran
// first.
const compareWarmUp = 3 * time.Second

// runModes runs the phases against a started cluster once, or, with
// CompareIdempotent, twice back to back after a warm-up: idempotent producers, then
// transactional ones, each on a topic of its own (a fresh one unless the workload
// names a topic).
func runModes(ctx context.Context, c *Cluster, w Workload, phases []Phase, progress io.Writer) ([]Result, error) {
	if !w.CompareIdempotent {
		return Run(ctx, c, w, phases, progress)
	}
	if err := warmUpTarget(ctx, c, w, progress); err != nil {
		return nil, err
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
