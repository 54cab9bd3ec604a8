package lab

import (
	"context"
	"strings"
	"sync"
	"time"
)

// DefaultParallel is how many cells a matrix runs at once unless told otherwise. A cell
// spends most of its time waiting (for its consumer group to form, for timeouts to
// expire, for the final reads), so a few at once fill a small machine without crowding it.
const DefaultParallel = 4

// DefaultClusterParallel is DefaultParallel for cells on clusters of their own: they wait
// longer still (for fencing, elections, restarts), and share no broker.
const DefaultClusterParallel = 8

// MatrixConfig chooses the cells of a matrix run and sizes them.
type MatrixConfig struct {
	Rows   []Settings // default Rows
	Faults []Fault    // default Faults
	Cell   CellConfig
	// Target gives the target for a fault's cells; a nil target skips them. It is called
	// once per fault, before any cell runs, from RunMatrix's goroutine.
	Target func(Fault) Target
	// FreshTarget, if set, replaces Target: every cell starts a target of its own with
	// it, from the cell's goroutine, and closes it when done, so that no cell feels
	// another's faults. TargetName names these targets in the report.
	FreshTarget func(Fault) (Target, error)
	TargetName  string
	// Parallel bounds the cells running at once (default 1). Cells whose fault crashes or
	// powers off the broker run with their target to themselves.
	Parallel int
	// Progress, if set, is called when a cell starts and when it ends, one call at a time.
	Progress func(Progress)
}

// Progress is a matrix run's state when a cell starts or ends.
type Progress struct {
	Done, Total int
	Running     []string    // the cells in progress, "row × fault", in matrix order
	Last        *CellResult // the cell that just ended; nil when one started
}

// Report is a matrix run: every cell, with what was expected and what was observed.
type Report struct {
	Target   string        `json:"target"`
	Seed     int64         `json:"seed"`
	Values   int           `json:"values_per_cell"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration_ns"`
	Rows     []Settings    `json:"rows"`
	Faults   []Fault       `json:"faults"`
	Cells    []CellResult  `json:"cells"` // in matrix order: fault by fault, row by row
}

// matrixCell is one cell waiting to run.
type matrixCell struct {
	row    Settings
	fault  Fault
	target Target
	fresh  func(Fault) (Target, error) // starts the cell's own target instead
}

func (c matrixCell) name() string { return c.row.Name + " × " + c.fault.Name }

// RunMatrix runs every cell, up to cfg.Parallel at once, each on topics, groups,
// transactional ids and proxy connections of its own, so that concurrent cells share
// nothing but the brokers. A cell whose fault disturbs the broker itself (kill -9, power
// loss) would disturb every cell on it, so it runs alone on its target.
func RunMatrix(ctx context.Context, cfg MatrixConfig) *Report {
	if cfg.Rows == nil {
		cfg.Rows = Rows
	}
	if cfg.Faults == nil {
		cfg.Faults = Faults
	}
	rep := &Report{Seed: cfg.Cell.Seed, Values: cfg.Cell.Values, Started: time.Now(), Rows: cfg.Rows, Faults: cfg.Faults}
	cfg.Cell.run = newRunTag()
	var cells []matrixCell
	var jobs []job
	if cfg.FreshTarget != nil {
		rep.Target = cfg.TargetName
	}
	for _, f := range cfg.Faults {
		var target Target
		if cfg.FreshTarget == nil {
			target = cfg.Target(f)
		}
		if target != nil && !strings.Contains(rep.Target, target.Name()) {
			rep.Target = strings.TrimPrefix(rep.Target+" + "+target.Name(), " + ")
		}
		for _, row := range cfg.Rows {
			cells = append(cells, matrixCell{row: row, fault: f, target: target, fresh: cfg.FreshTarget})
			s := job{}
			if target != nil && f.unsupported(target) == "" {
				s = job{key: target, exclusive: f.DisturbsBroker()}
			}
			jobs = append(jobs, s)
		}
	}
	rep.Cells = make([]CellResult, len(cells))
	tracker := progressTracker{report: cfg.Progress, total: len(cells), running: make([]bool, len(cells))}
	schedule(jobs, cfg.Parallel, func(i int) {
		tracker.update(cells, i, nil)
		rep.Cells[i] = runMatrixCell(ctx, cells[i], cfg.Cell)
		tracker.update(cells, i, &rep.Cells[i])
	})
	rep.Duration = time.Since(rep.Started)
	return rep
}

func runMatrixCell(ctx context.Context, c matrixCell, cfg CellConfig) CellResult {
	end := func(v Verdict, note string) CellResult {
		res := CellResult{Row: c.row.Name, Fault: c.fault.Name, Expectation: c.fault.Expect(c.row, Capabilities{}), Verdict: v, Note: note}
		res.Expected = res.Expectation.Label()
		return res
	}
	if ctx.Err() != nil {
		return end(Skipped, "the run was interrupted")
	}
	target := c.target
	if c.fresh != nil {
		start := time.Now()
		var err error
		if target, err = c.fresh(c.fault); err != nil {
			return end(Broken, "starting the cell's cluster: "+err.Error())
		}
		defer target.Close()
		res := RunCell(ctx, target, c.row, c.fault, cfg)
		res.Duration = time.Since(start) // the cluster's start included
		return res
	}
	if target == nil {
		return end(Skipped, "no target for this fault")
	}
	return RunCell(ctx, target, c.row, c.fault, cfg)
}

// progressTracker tells Progress which cells run, one call at a time.
type progressTracker struct {
	report func(Progress)
	total  int

	mu      sync.Mutex
	done    int
	running []bool // by cell index
}

// update records that cell i started (ended nil) or ended, and reports.
func (t *progressTracker) update(cells []matrixCell, i int, ended *CellResult) {
	if t.report == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[i] = ended == nil
	if ended != nil {
		t.done++
	}
	p := Progress{Done: t.done, Total: t.total, Last: ended}
	for j, r := range t.running {
		if r {
			p.Running = append(p.Running, cells[j].name())
		}
	}
	t.report(p)
}

// Cell finds the result of one cell.
func (r *Report) Cell(row, fault string) (CellResult, bool) {
	for _, c := range r.Cells {
		if c.Row == row && c.Fault == fault {
			return c, true
		}
	}
	return CellResult{}, false
}

// Count is how many cells have verdict v.
func (r *Report) Count(v Verdict) int {
	n := 0
	for _, c := range r.Cells {
		if c.Verdict == v {
			n++
		}
	}
	return n
}
