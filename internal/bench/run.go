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

// RunTargets starts each target in turn, runs the phases against it (once per case)
// and stops it, so that the targets never compete for the machine. A target is stopped
// however its run ends: an error, a broker process that exits, or ctx cancelled.
func RunTargets(ctx context.Context, targets []Target, o TargetOptions, w Workload, phases []Phase, progress io.Writer) (*Report, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	for _, t := range targets {
		if err := w.checkBrokers(t, o.brokers(t)); err != nil {
			return nil, err
		}
	}
	report := newReport(w, phases)
	for _, t := range targets {
		info, results, err := runTarget(ctx, t, o, w, phases, progress)
		if info.Name != "" {
			report.Targets = append(report.Targets, info)
		}
		report.Results = append(report.Results, results...)
		if err != nil {
			return report, fmt.Errorf("%s: %w", t, err)
		}
	}
	return report, nil
}

// runTarget starts one target, runs the cases against it and closes it on every way
// out. A broker process that exits during the run cancels the run, and its exit (with
// the end of its log) becomes the error, rather than the timeouts it caused.
func runTarget(ctx context.Context, t Target, o TargetOptions, w Workload, phases []Phase, progress io.Writer) (TargetInfo, []Result, error) {
	c, err := start(ctx, t, o, progress)
	if err != nil {
		return TargetInfo{}, nil, err
	}
	defer c.Close()
	info := TargetInfo{Name: string(t), Details: c.Details}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if c.lost != nil {
		go func() {
			select {
			case err := <-c.lost:
				cancel(err)
			case <-ctx.Done():
			}
		}()
	}
	results, err := runCases(ctx, c, w, phases, progress)
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		err = cause
	}
	return info, results, err
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
		cpu     *BrokerCPU
	)
	switch phase {
	case PhaseProduce, PhaseProduceRate:
		var ps *producers
		if ps, err = newProducers(r.cluster.Seeds, r.topic.name, r.w, m); err != nil {
			return r.result(m, phase, 0, nil), err
		}
		defer ps.close()
		if err = ps.warmUp(ctx); err != nil {
			return r.result(m, phase, 0, nil), fmt.Errorf("warming up producers: %w", err)
		}
		measureCPU := r.measureCPU(ctx)
		m.startedAt = time.Now()
		stop := r.reportProgress(phase, m)
		elapsed = ps.runPhase(ctx, phase, r.w)
		stop()
		cpu = measureCPU(m.bytes.Load())
	case PhaseConsume:
		measureCPU := r.measureCPU(ctx)
		m.startedAt = time.Now()
		stop := r.reportProgress(phase, m)
		elapsed, err = runConsume(ctx, r.cluster.Seeds, r.topic, r.w, want, m)
		stop()
		cpu = measureCPU(m.bytes.Load())
	default:
		err = fmt.Errorf("unknown phase %q", phase)
	}
	return r.result(m, phase, elapsed, cpu), err
}

func (r *runner) result(m *meter, phase Phase, elapsed time.Duration, cpu *BrokerCPU) Result {
	res := m.result(string(r.cluster.Target), phase, elapsed)
	if phase == PhaseProduceRate {
		res.TargetMBPerS = r.w.RateMBps
	}
	res.Transactional = r.w.Transactional
	res.Case = r.w.caseName
	res.BrokerCPU = cpu
	return res
}

// measureCPU samples the brokers' CPU time now; the returned func, called when the
// phase is over with the bytes it moved, waits for the brokers to settle and returns
// what they used in between. It returns nil when the brokers' CPU cannot be read (they
// are in-process or elsewhere, or /proc failed): the figures are then left out rather
// than failing the run.
func (r *runner) measureCPU(ctx context.Context) func(bytes int64) *BrokerCPU {
	s := r.cluster.cpu
	if s == nil {
		return func(int64) *BrokerCPU { return nil }
	}
	before, err := s.sample()
	return func(bytes int64) *BrokerCPU {
		if err != nil {
			return nil
		}
		after, err := s.settle(ctx)
		if err != nil {
			return nil
		}
		return brokerCPU(before, after, bytes)
	}
}

// reportProgress starts the progress lines of a phase; the returned func stops them and
// returns once the last line is written.
func (r *runner) reportProgress(phase Phase, m *meter) (stop func()) {
	label := fmt.Sprintf("%-8s %-16s", r.cluster.Target, phaseLabel(phase, r.w.Transactional))
	if r.w.caseName != "" {
		label = fmt.Sprintf("%-8s %-24s %-16s", r.cluster.Target, r.w.caseName, phaseLabel(phase, r.w.Transactional))
	}
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
