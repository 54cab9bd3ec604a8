package console

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A matrix run streams its progress and leaves a report; a second run waits its turn.
func TestMatrixRun(t *testing.T) {
	_, srv := startConsole(t, Config{})
	s := openStream(t, srv.URL)
	req := MatrixRequest{Settings: []string{"acks-1"}, Faults: []string{"none", "dropped-request"}, Values: 30, Seed: 7}
	var p MatrixProgress
	post(t, srv.URL+"/api/matrix/run", req, &p, http.StatusAccepted)
	if p.Total != 2 {
		t.Errorf("run of %d cells, want 2", p.Total)
	}
	post(t, srv.URL+"/api/matrix/run", req, nil, http.StatusConflict)
	events := s.until(60*time.Second, "matrix done", func(e Event) bool {
		return e.Type == "matrix" && !e.Matrix.Running
	})
	cells := 0
	for _, e := range events {
		if e.Type == "matrix" && e.Matrix.Cell != nil {
			cells++
		}
	}
	if cells != 2 {
		t.Errorf("%d cell events, want 2", cells)
	}
	get(t, srv.URL+"/api/matrix", &p, http.StatusOK)
	if p.Running || !p.Report || len(p.Cells) != 2 || p.Error != "" {
		t.Fatalf("after the run: %+v", p)
	}
	for _, c := range p.Cells { // the verdicts are the lab's business; that the cells ran is ours
		if c.Class == "error" || c.Class == "skipped" || c.Short == "" {
			t.Errorf("cell %s × %s did not run: %s (%s)", c.Row, c.Fault, c.Short, c.Note)
		}
	}
	resp, err := http.Get(srv.URL + "/api/matrix/report.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Guarantee matrix") {
		t.Errorf("report: status %d, %d bytes", resp.StatusCode, len(body))
	}
	post(t, srv.URL+"/api/matrix/run", MatrixRequest{Faults: []string{"solar-flare"}}, nil, http.StatusBadRequest)
}
