package bench

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// PhasesFor maps a command mode to its phases: produce (closed loop, or the fixed-rate
// phase when fixedRate), consume, or all three in sequence.
func PhasesFor(mode string, fixedRate bool) ([]Phase, error) {
	switch mode {
	case "produce":
		if fixedRate {
			return []Phase{PhaseProduceRate}, nil
		}
		return []Phase{PhaseProduce}, nil
	case "consume":
		return []Phase{PhaseConsume}, nil
	case "all":
		return []Phase{PhaseProduce, PhaseProduceRate, PhaseConsume}, nil
	}
	return nil, fmt.Errorf("mode %q: want produce, consume or all", mode)
}

// RunTargets starts each target in turn, runs the phases against it and stops it, so
// that the targets never compete for the machine.
func RunTargets(ctx context.Context, targets []Target, o TargetOptions, w Workload, phases []Phase, progress io.Writer) (*Report, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	report := newReport(w, phases)
	for _, t := range targets {
		c, err := Start(t, o)
		if err != nil {
			return report, err
		}
		report.Targets = append(report.Targets, TargetInfo{Name: string(t), Details: c.Details})
		results, err := runModes(ctx, c, w, phases, progress)
		c.Close()
		report.Results = append(report.Results, results...)
		if err != nil {
			return report, fmt.Errorf("%s: %w", t, err)
		}
	}
	return report, nil
}

// Run runs the phases in order against a started cluster, on the workload's topic. A
// consume phase on an empty topic produces first (closed loop) so it has data to read.
func Run(ctx context.Context, c *Cluster, w Workload, phases []Phase, progress io.Writer) ([]Result, error) {
	adm, err := newAdmin(c.Seeds)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	adminCtx, cancel := context.WithTimeout(ctx, w.RequestTimeouts)
	topic, err := ensureTopic(adminCtx, adm, w)
	cancel()
	if err != nil {
		return nil, err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), w.RequestTimeouts)
		defer cancel()
		_ = topic.delete(ctx, adm, w.Keep)
	}()

	r := &runner{cluster: c, topic: topic, w: w, progress: progress}
	var results []Result
	for i, phase := range phases {
		if phase == PhaseConsume && !slices.Contains(phases[:i], PhaseProduce) {
			stored, err := topic.recordsStored(ctx, adm)
			if err != nil {
				return results, fmt.Errorf("counting stored records: %w", err)
			}
			if stored == 0 {
				res, err := r.run(ctx, PhaseProduce, consumeGoal{})
				results = append(results, res)
				if err != nil {
					return results, err
				}
			}
		}
		var want consumeGoal
		if phase == PhaseConsume {
			if want.offsets, err = topic.recordsStored(ctx, adm); err != nil {
				return results, fmt.Errorf("counting stored records: %w", err)
			}
			want.records = want.offsets
			if w.Records > 0 {
				want.records = min(want.records, w.Records)
			}
		}
		res, err := r.run(ctx, phase, want)
		results = append(results, res)
		if err != nil {
			return results, err
		}
	}
	return results, ctx.Err()
}

// runner runs single phases against one cluster and topic.
type runner struct {
	cluster  *Cluster
	topic    *benchTopic
	w        Workload
	progress io.Writer
}

// run measures one phase; want is what a consume phase reads.
func (r *runner) run(ctx context.Context, phase Phase, want consumeGoal) (Result, error) {
	m := newMeter()
	var (
		elapsed time.Duration
		err     error
	)
	switch phase {
	case PhaseProduce, PhaseProduceRate:
		var ps *producers
		if ps, err = newProducers(r.cluster.Seeds, r.topic.name, r.w, m); err != nil {
			return m.result(string(r.cluster.Target), phase, 0), err
		}
		defer ps.close()
		if err = ps.warmUp(ctx); err != nil {
			return m.result(string(r.cluster.Target), phase, 0), fmt.Errorf("warming up producers: %w", err)
		}
		m.startedAt = time.Now()
		stop := r.reportProgress(phase, m)
		elapsed = ps.runPhase(ctx, phase, r.w)
		stop()
	case PhaseConsume:
		m.startedAt = time.Now()
		stop := r.reportProgress(phase, m)
		elapsed, err = runConsume(ctx, r.cluster.Seeds, r.topic, r.w, want, m)
		stop()
	default:
		err = fmt.Errorf("unknown phase %q", phase)
	}
	res := m.result(string(r.cluster.Target), phase, elapsed)
	if phase == PhaseProduceRate {
		res.TargetMBPerS = r.w.RateMBps
	}
	res.Transactional = r.w.Transactional
	return res, err
}

// reportProgress starts the progress lines of a phase; the returned func stops them and
// returns once the last line is written.
func (r *runner) reportProgress(phase Phase, m *meter) (stop func()) {
	label := fmt.Sprintf("%-8s %-16s", r.cluster.Target, phaseLabel(phase, r.w.Transactional))
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		reportProgress(r.progress, r.w.ProgressEvery, label, m, done)
	}()
	return func() {
		close(done)
		<-finished
	}
}
