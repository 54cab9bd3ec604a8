package lab

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleReport is a two-by-two matrix with one cell of each interesting verdict.
func sampleReport() *Report {
	none, _ := FaultByID("none")
	lostAck, _ := FaultByID("lost-ack")
	acks1, _ := RowByID("acks-1")
	txn, _ := RowByID("transactional")
	cell := func(row Settings, f Fault, v Verdict, counts map[Anomaly]int) CellResult {
		e := f.Expect(row, Capabilities{Nodes: 1})
		return CellResult{Row: row.Name, Fault: f.Name, Expectation: e, Expected: e.Label(), Verdict: v,
			Result: Result{Sent: 100, Acked: 100, Stored: 100, Counts: counts, Examples: map[Anomaly][]string{}}}
	}
	return &Report{
		Target: "test", Seed: 9, Values: 100, Started: time.Unix(0, 0), Duration: time.Second,
		Rows: []Settings{acks1, txn}, Faults: []Fault{none, lostAck},
		Cells: []CellResult{
			cell(acks1, none, Holds, map[Anomaly]int{}),
			cell(txn, none, Holds, map[Anomaly]int{}),
			cell(acks1, lostAck, Holds, map[Anomaly]int{Duplicated: 7}),
			cell(txn, lostAck, Violated, map[Anomaly]int{Duplicated: 2}),
		},
	}
}

func TestReportTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"acks=1, retries", "transactional", "lost ack", "✓ dup 7", "✗ dup 2",
		"4 cells", "1 violated", "✗ transactional × lost ack: expected exact, observed dup 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Seed  int64 `json:"seed"`
		Cells []struct {
			Row, Fault, Verdict string
			Result              struct{ Counts map[string]int }
		} `json:"cells"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Seed != 9 || len(back.Cells) != 4 || back.Cells[3].Verdict != "VIOLATED" || back.Cells[2].Result.Counts["duplicated"] != 7 {
		t.Fatalf("JSON lost information: %+v\n%s", back, b.String())
	}
}

func TestReportMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "| fault \\ settings | acks=1, retries | transactional |") ||
		!strings.Contains(out, "| lost ack | ✓ dup 7 | ✗ dup 2 |") {
		t.Fatalf("markdown matrix wrong:\n%s", out)
	}
}

// The HTML report is one self-contained page: no script, style or image from elsewhere.
func TestReportHTMLSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`).MatchString(out) || strings.Contains(out, "@import") {
		t.Fatalf("the report loads something from the network:\n%s", out)
	}
	for _, want := range []string{"<svg", "violated", "dup 7", "Guarantee matrix"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestJudge(t *testing.T) {
	e := Expectation{Allowed: []Anomaly{Reprocessed}, Expected: []Anomaly{Duplicated}}
	for _, tc := range []struct {
		counts map[Anomaly]int
		want   Verdict
	}{
		{map[Anomaly]int{Duplicated: 1}, Holds},
		{map[Anomaly]int{Duplicated: 1, Reprocessed: 3}, Holds},
		{map[Anomaly]int{}, NotReproduced},
		{map[Anomaly]int{Duplicated: 1, Lost: 1}, Violated},
		{map[Anomaly]int{Lost: 1}, Violated},
	} {
		if got, _ := e.Judge(Result{Counts: tc.counts}); got != tc.want {
			t.Errorf("Judge(%v) = %s, want %s", tc.counts, got, tc.want)
		}
	}
}

// Every cell of the matrix states what it expects, and the strongest row promises
// exactly-once everywhere but where durability was switched off or an unclean election
// allowed.
func TestExpectations(t *testing.T) {
	txn, _ := RowByID("transactional")
	for _, f := range Faults {
		e := f.Expect(txn, Capabilities{Nodes: 1})
		if f.PageCache || f.TopicConfigs["unclean.leader.election.enable"] == "true" {
			if len(e.Expected) == 0 {
				t.Errorf("%s should be expected to lose values", f.Name)
			}
			continue
		}
		if len(e.Allowed)+len(e.Expected) != 0 {
			t.Errorf("transactional × %s allows %v, expects %v; want exactly once", f.Name, e.Allowed, e.Expected)
		}
	}
}

// Every anomaly has its label in the matrix, its colour in the charts and an entry in the
// charts' legend, so that a new anomaly cannot show up as a blank.
func TestReportNamesEveryAnomaly(t *testing.T) {
	labels := map[string]Anomaly{}
	for _, a := range Anomalies {
		label, color := shortNames[a], chartColors[a]
		if label == "" || color == "" {
			t.Errorf("%s: label %q, colour %q", a, label, color)
		}
		if other, ok := labels[label]; ok {
			t.Errorf("%s and %s share the label %q", a, other, label)
		}
		labels[label] = a
		if !strings.Contains(reportHTML, `<i style="background:`+color+`"></i>`) {
			t.Errorf("%s: colour %s missing from the legend", a, color)
		}
	}
}
