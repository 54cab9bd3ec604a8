package lab

import (
	"context"
	"strings"
	"time"
)

// MatrixConfig chooses the cells of a matrix run and sizes them.
type MatrixConfig struct {
	Rows   []Settings // default Rows
	Faults []Fault    // default Faults
	Cell   CellConfig
	// Target gives the target for a fault's cells; a nil target skips them.
	Target func(Fault) Target
	// Progress, if set, is called before each cell (running) and after it (done).
	Progress func(done, total int, running string, last *CellResult)
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
	Cells    []CellResult  `json:"cells"`
}

// RunMatrix runs every cell, one at a time, so that one cell's broker crash never
// disturbs another's workload.
func RunMatrix(ctx context.Context, cfg MatrixConfig) *Report {
	if cfg.Rows == nil {
		cfg.Rows = Rows
	}
	if cfg.Faults == nil {
		cfg.Faults = Faults
	}
	rep := &Report{Seed: cfg.Cell.Seed, Values: cfg.Cell.Values, Started: time.Now(), Rows: cfg.Rows, Faults: cfg.Faults}
	total := len(cfg.Rows) * len(cfg.Faults)
	for _, f := range cfg.Faults {
		target := cfg.Target(f)
		if target != nil && !strings.Contains(rep.Target, target.Name()) {
			rep.Target = strings.TrimPrefix(rep.Target+" + "+target.Name(), " + ")
		}
		for _, row := range cfg.Rows {
			if cfg.Progress != nil {
				cfg.Progress(len(rep.Cells), total, row.Name+" × "+f.Name, nil)
			}
			var cell CellResult
			switch {
			case ctx.Err() != nil:
				cell = CellResult{Row: row.Name, Fault: f.Name, Expectation: f.Expect(row), Verdict: Skipped, Note: "the run was interrupted"}
				cell.Expected = cell.Expectation.Label()
			case target == nil:
				cell = CellResult{Row: row.Name, Fault: f.Name, Expectation: f.Expect(row), Verdict: Skipped, Note: "no target for this fault"}
				cell.Expected = cell.Expectation.Label()
			default:
				cell = RunCell(ctx, target, row, f, cfg.Cell)
			}
			rep.Cells = append(rep.Cells, cell)
			if cfg.Progress != nil {
				cfg.Progress(len(rep.Cells), total, "", &rep.Cells[len(rep.Cells)-1])
			}
		}
	}
	rep.Duration = time.Since(rep.Started)
	return rep
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
