package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/waybill/waybill/internal/lab"
)

// MatrixRequest is the body of POST /api/matrix/run. Empty lists mean every row, or every
// single-node fault; the page's "Run quick matrix" sends none. The matrix runs on one
// sandbox broker: a replicated fault asked for by name is listed as skipped, with the
// lab's reason (`waybill lab run` runs those on a fresh cluster per cell).
type MatrixRequest struct {
	Settings []string `json:"settings,omitempty"` // lab.Settings IDs
	Faults   []string `json:"faults,omitempty"`   // lab.Fault IDs
	Values   int      `json:"values,omitempty"`   // per cell; default 100
	Seed     int64    `json:"seed,omitempty"`     // default random
}

// MatrixCell is one finished cell as the page draws it: the lab's own words for it.
type MatrixCell struct {
	Row      string `json:"row"`
	Fault    string `json:"fault"`
	Verdict  string `json:"verdict"`
	Class    string `json:"class"` // holds, violated, not-reproduced, skipped, error
	Short    string `json:"short"` // lab.CellResult.Short: "✓ dup 3"
	Expected string `json:"expected"`
	Note     string `json:"note,omitempty"`
}

// MatrixProgress is a run's progress, in matrix events and GET /api/matrix.
type MatrixProgress struct {
	Running bool   `json:"running"`
	Done    int    `json:"done"`
	Total   int    `json:"total"`
	Current string `json:"current,omitempty"` // RunningCells, "; "-separated
	// RunningCells are the cells in progress, "acks=1, retries × lost ack", in matrix order.
	RunningCells []string      `json:"running_cells,omitempty"`
	Cell         *MatrixCell   `json:"cell,omitempty"` // the cell just finished (events only)
	Error        string        `json:"error,omitempty"`
	Summary      string        `json:"summary,omitempty"` // once finished
	Rows         []MatrixRow   `json:"rows,omitempty"`    // GET only
	Faults       []MatrixFault `json:"faults,omitempty"`  // GET only
	Cells        []MatrixCell  `json:"cells,omitempty"`   // GET only
	Report       bool          `json:"report"`            // a finished report is at /api/matrix/report.html
}

// MatrixRow is a row of the matrix: one of lab.Rows.
type MatrixRow struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Guarantee string `json:"guarantee"`
	Consumer  string `json:"consumer"`
}

// MatrixFault is a column of the matrix: one of lab.SingleNodeFaults by default.
type MatrixFault struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func matrixAxes(rows []lab.Settings, faults []lab.Fault) ([]MatrixRow, []MatrixFault) {
	rs := make([]MatrixRow, len(rows))
	for i, r := range rows {
		rs[i] = MatrixRow{ID: r.ID, Name: r.Name, Guarantee: r.Guarantee, Consumer: r.Consumer.String()}
	}
	fs := make([]MatrixFault, len(faults))
	for i, f := range faults {
		fs[i] = MatrixFault{ID: f.ID, Name: f.Name}
	}
	return rs, fs
}

// quickValues is the values per cell of the page's quick matrix.
const quickValues = 100

var errMatrixBusy = errors.New("a matrix run is already in progress")

// matrixRunner runs one matrix at a time on a sandbox broker of its own, so that its
// crashes never disturb the simulator, and keeps the latest report.
type matrixRunner struct {
	ctx context.Context
	dir string
	hub *hub
	log *slog.Logger
	wg  sync.WaitGroup

	mu       sync.Mutex
	runs     int
	progress MatrixProgress
	cells    []MatrixCell
	report   *lab.Report
}

func newMatrixRunner(ctx context.Context, dir string, h *hub, log *slog.Logger) *matrixRunner {
	return &matrixRunner{ctx: ctx, dir: dir, hub: h, log: log}
}

// start begins a run in the background.
func (m *matrixRunner) start(req MatrixRequest) error {
	mc := lab.MatrixConfig{}
	for _, id := range req.Settings {
		row, ok := lab.RowByID(id)
		if !ok {
			return badRequest{fmt.Errorf("unknown settings %q", id)}
		}
		mc.Rows = append(mc.Rows, row)
	}
	for _, id := range req.Faults {
		f, ok := lab.FaultByID(id)
		if !ok {
			return badRequest{fmt.Errorf("unknown fault %q", id)}
		}
		mc.Faults = append(mc.Faults, f)
	}
	if req.Values <= 0 {
		req.Values = quickValues
	}
	if req.Values > 10000 {
		return badRequest{fmt.Errorf("at most 10000 values a cell")}
	}
	if req.Seed == 0 {
		req.Seed = rand.Int64N(1_000_000)
	}
	if mc.Faults == nil {
		mc.Faults = lab.SingleNodeFaults()
	}
	rows, faults := mc.Rows, mc.Faults
	if rows == nil {
		rows = lab.Rows
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.progress.Running {
		return errMatrixBusy
	}
	if m.ctx.Err() != nil {
		return errClosed
	}
	m.runs++
	dir := filepath.Join(m.dir, fmt.Sprintf("matrix-%d", m.runs))
	m.progress = MatrixProgress{Running: true, Total: len(rows) * len(faults)}
	m.progress.Rows, m.progress.Faults = matrixAxes(rows, faults)
	m.cells = nil
	mc.Cell = lab.CellConfig{Values: req.Values, Partitions: 3, Timeout: time.Minute, Seed: req.Seed,
		Logger: quietLogger(m.log)}
	m.wg.Add(1)
	go m.run(mc, dir)
	return nil
}

func (m *matrixRunner) run(mc lab.MatrixConfig, dir string) {
	defer m.wg.Done()
	defer os.RemoveAll(dir)
	target, err := lab.NewNodeTarget(dir, quietLogger(m.log))
	if err != nil {
		m.finish(nil, fmt.Errorf("starting the matrix's sandbox broker: %w", err))
		return
	}
	defer target.Close()
	// Every column runs on the in-process broker: its crash is a process crash in
	// memory, not the kill -9 of a child process that `waybill lab run` does.
	mc.Target = func(lab.Fault) lab.Target { return target }
	mc.Parallel = lab.DefaultParallel
	mc.Progress = m.onProgress
	rep := lab.RunMatrix(m.ctx, mc)
	m.finish(rep, nil)
}

func (m *matrixRunner) onProgress(p lab.Progress) {
	m.mu.Lock()
	m.progress.Done, m.progress.Total = p.Done, p.Total
	m.progress.Current = strings.Join(p.Running, "; ")
	m.progress.RunningCells = p.Running
	var cell *MatrixCell
	if p.Last != nil {
		c := matrixCell(*p.Last)
		m.cells = append(m.cells, c)
		cell = &c
	}
	ev := m.eventLocked()
	ev.Matrix.Cell = cell
	m.mu.Unlock()
	m.hub.publish(ev)
}

func (m *matrixRunner) finish(rep *lab.Report, err error) {
	m.mu.Lock()
	m.progress.Running, m.progress.Current, m.progress.RunningCells = false, "", nil
	if err != nil {
		m.progress.Error = err.Error()
		m.log.Warn("console: matrix run failed", "err", err)
	}
	if rep != nil {
		m.report = rep
		m.progress.Report = true
		m.progress.Summary = fmt.Sprintf("%d cells in %s: %d hold, %d violated, %d not reproduced, %d skipped, %d errors (seed %d, %d values a cell)",
			len(rep.Cells), rep.Duration.Round(100*time.Millisecond), rep.Count(lab.Holds), rep.Count(lab.Violated),
			rep.Count(lab.NotReproduced), rep.Count(lab.Skipped), rep.Count(lab.Broken), rep.Seed, rep.Values)
	}
	ev := m.eventLocked()
	m.mu.Unlock()
	m.hub.publish(ev)
}

// eventLocked is a matrix event with the progress so far, without the grid.
func (m *matrixRunner) eventLocked() Event {
	p := m.progress
	p.Rows, p.Faults, p.Cells = nil, nil, nil
	e := newEvent("matrix", 0)
	e.Matrix = &p
	return e
}

// status is the run in progress or the latest, with every finished cell.
func (m *matrixRunner) status() MatrixProgress {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.progress
	p.Cells = append([]MatrixCell{}, m.cells...)
	if p.Rows == nil {
		p.Rows, p.Faults = matrixAxes(lab.Rows, lab.SingleNodeFaults())
	}
	return p
}

// latest is the latest finished report, or nil.
func (m *matrixRunner) latest() *lab.Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.report
}

// wait waits for a run to end after the console's context was cancelled.
func (m *matrixRunner) wait() { m.wg.Wait() }

func matrixCell(c lab.CellResult) MatrixCell {
	return MatrixCell{Row: c.Row, Fault: c.Fault, Verdict: string(c.Verdict),
		Class: strings.ReplaceAll(strings.ToLower(string(c.Verdict)), " ", "-"),
		Short: c.Short(), Expected: c.Expected, Note: c.Note}
}
