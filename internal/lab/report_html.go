package lab

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed report.html.tmpl
var reportHTML string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"cell": func(r *Report, row, fault string) CellResult { c, _ := r.Cell(row, fault); return c },
	"mark": func(v Verdict) string { return verdictMarks[v] },
	"class": func(v Verdict) string {
		return strings.ReplaceAll(strings.ToLower(string(v)), " ", "-")
	},
	"chart": anomalyChart,
	"round": func(d time.Duration) time.Duration { return d.Round(100 * time.Millisecond) },
}).Parse(reportHTML))

// WriteHTML writes a self-contained page: the matrix coloured by verdict, a chart of the
// anomalies each setting showed under each fault, and every cell's details. It loads
// nothing from the network.
func (r *Report) WriteHTML(w io.Writer) error {
	return reportTemplate.Execute(w, r)
}

// chartColors give each anomaly the same colour in every chart.
var chartColors = map[Anomaly]string{
	Lost: "#d1495b", Unseen: "#edae49", Duplicated: "#00798c", AbortedRead: "#30343f",
	PrecommittedRead: "#6a4c93", Reordered: "#f18f01", PollSkip: "#8d99ae", PollBackwards: "#5c6b73",
	InconsistentOffsets: "#9a031e", Unprocessed: "#e36414", Reprocessed: "#0f4c5c",
	AckedTruncated: "#b5179e", TruncatedRead: "#7209b7", ReplicaDivergence: "#3a86ff",
}

// anomalyChart draws, for one row of settings, a bar per fault stacked by anomaly, as an
// inline SVG so the page needs no script.
func anomalyChart(r *Report, row string) template.HTML {
	// Bars take at most 40% of what is right of the labels, so their captions fit.
	const barH, gap, labelW, width = 16, 6, 220, 900
	maxTotal := 1
	for _, c := range r.Cells {
		total := 0
		for _, n := range c.Result.Counts {
			total += n
		}
		maxTotal = max(maxTotal, total)
	}
	var b strings.Builder
	height := len(r.Faults)*(barH+gap) + gap
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="anomalies of %s by fault">`, width, height, template.HTMLEscapeString(row))
	for i, f := range r.Faults {
		y := gap + i*(barH+gap)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, labelW-8, y+barH-4, template.HTMLEscapeString(f.Name))
		c, _ := r.Cell(row, f.Name)
		x := float64(labelW)
		for _, a := range Anomalies {
			n := c.Result.Count(a)
			if n == 0 {
				continue
			}
			w := float64(n) / float64(maxTotal) * float64(width-labelW) * 0.4
			w = max(w, 2)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d</title></rect>`,
				x, y, w, barH, chartColors[a], a, n)
			x += w
		}
		label := c.Result.Observed()
		if c.Verdict == Skipped || c.Verdict == Broken {
			label = string(c.Verdict)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="count">%s</text>`, x+6, y+barH-4, template.HTMLEscapeString(label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
