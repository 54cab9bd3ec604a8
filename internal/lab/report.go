package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// shortNames abbreviate anomalies in the matrix's cells.
var shortNames = map[Anomaly]string{
	Lost: "lost", Unseen: "unseen", Duplicated: "dup", AbortedRead: "aborted-read",
	PrecommittedRead: "precommitted", Reordered: "reordered", PollSkip: "skip",
	PollBackwards: "backwards", InconsistentOffsets: "inconsistent", Unprocessed: "unprocessed",
	Reprocessed: "reprocessed", AckedTruncated: "truncated", TruncatedRead: "read-truncated",
	ReplicaDivergence: "divergent",
}

// Observed sums up a result in a few words: "exact", or the anomalies with their counts.
func (r Result) Observed() string {
	var parts []string
	for _, a := range Anomalies {
		if n := r.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", shortNames[a], n))
		}
	}
	if len(parts) == 0 {
		return "exact"
	}
	return strings.Join(parts, ", ")
}

var verdictMarks = map[Verdict]string{Holds: "✓", Violated: "✗", NotReproduced: "?", Skipped: "–", Broken: "!"}

// Short is the cell as the terminal and Markdown tables print it.
func (c CellResult) Short() string {
	switch c.Verdict {
	case Skipped:
		return "– skipped"
	case Broken:
		return "! error"
	}
	return verdictMarks[c.Verdict] + " " + c.Result.Observed()
}

// WriteTable prints the matrix for a terminal: a line per fault, a column per setting,
// then the expectation of every cell that disagreed and the legend.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := []string{"fault \\ settings"}
	for _, row := range r.Rows {
		header = append(header, row.Name)
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, f := range r.Faults {
		line := []string{f.Name}
		for _, row := range r.Rows {
			c, _ := r.Cell(row.Name, f.Name)
			line = append(line, c.Short())
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d cells in %s: %d hold, %d violated, %d not reproduced, %d skipped, %d errors (seed %d, %d values a cell, target %s)\n",
		len(r.Cells), r.Duration.Round(100_000_000), r.Count(Holds), r.Count(Violated), r.Count(NotReproduced),
		r.Count(Skipped), r.Count(Broken), r.Seed, r.Values, r.Target)
	for _, f := range r.Faults {
		fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Explain)
	}
	for _, s := range r.skips() {
		fmt.Fprintf(w, "– %s\n", s)
	}
	for _, c := range r.Cells {
		if c.Verdict == Holds || c.Verdict == Skipped {
			continue
		}
		observed := c.Result.Observed()
		if c.Verdict == Broken {
			observed = "nothing: the cell failed to run"
		}
		fmt.Fprintf(w, "%s %s × %s: expected %s, observed %s", verdictMarks[c.Verdict], c.Row, c.Fault, c.Expected, observed)
		if c.Note != "" {
			fmt.Fprintf(w, " (%s)", c.Note)
		}
		fmt.Fprintln(w)
		for _, a := range c.Disagreeing {
			for _, ex := range c.Result.Examples[a] {
				fmt.Fprintf(w, "    %s: %s\n", a, ex)
			}
		}
	}
	_, err := fmt.Fprintln(w, "✓ as expected  ✗ guarantee violated  ? expected weakness not reproduced  – skipped  ! run failed")
	return err
}

// skips says, once per fault and reason, which cells were skipped and why.
func (r *Report) skips() []string {
	var out []string
	for _, f := range r.Faults {
		var rows []string
		note := ""
		for _, c := range r.Cells {
			if c.Fault == f.Name && c.Verdict == Skipped {
				rows, note = append(rows, c.Row), c.Note
			}
		}
		if len(rows) > 0 {
			out = append(out, fmt.Sprintf("%s skipped (%s): %s", f.Name, strings.Join(rows, "; "), note))
		}
	}
	return out
}

// WriteJSON writes the whole report.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the matrix as a Markdown table, then every cell's expectation,
// observation and counts.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("| fault \\ settings |")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, " %s |", row.Name)
	}
	b.WriteString("\n|---|")
	for range r.Rows {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, f := range r.Faults {
		fmt.Fprintf(&b, "| %s |", f.Name)
		for _, row := range r.Rows {
			c, _ := r.Cell(row.Name, f.Name)
			fmt.Fprintf(&b, " %s |", c.Short())
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%d cells: %d hold, %d violated, %d not reproduced, %d skipped, %d errors. Seed %d, %d values a cell, target %s, %s.\n\n",
		len(r.Cells), r.Count(Holds), r.Count(Violated), r.Count(NotReproduced), r.Count(Skipped), r.Count(Broken),
		r.Seed, r.Values, r.Target, r.Duration.Round(100_000_000))
	b.WriteString("| fault | what it does, and what each row should show |\n|---|---|\n")
	for _, f := range r.Faults {
		fmt.Fprintf(&b, "| %s (`%s`) | %s |\n", f.Name, f.ID, f.Explain)
	}
	b.WriteString("\n")
	for _, s := range r.skips() {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	b.WriteString("\n| settings | fault | expected | observed | verdict | sent | acked | unknown | stored | replica batches compared |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Cells {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %d | %d | %d | %d | %d |\n", c.Row, c.Fault, c.Expected,
			c.Result.Observed(), c.Verdict, c.Result.Sent, c.Result.Acked, c.Result.Unknown, c.Result.Stored, c.Result.ReplicaBatches)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
