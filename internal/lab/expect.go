package lab

import (
	"slices"
	"strings"
)

// Expectation is what a cell of the matrix should show: the anomalies its settings permit
// under its fault, and those that must actually be observed, so that a weakness the matrix
// claims is demonstrated rather than assumed.
type Expectation struct {
	Allowed  []Anomaly `json:"allowed,omitempty"`
	Expected []Anomaly `json:"expected,omitempty"`
}

// Label is the expected verdict in a few words, as the matrix prints it.
func (e Expectation) Label() string {
	switch {
	case len(e.Expected) > 0:
		return anomalyWords(e.Expected)
	case len(e.Allowed) > 0:
		return "may: " + anomalyWords(e.Allowed)
	default:
		return "exact"
	}
}

func anomalyWords(as []Anomaly) string {
	words := make([]string, len(as))
	for i, a := range as {
		words[i] = string(a)
	}
	return strings.Join(words, ", ")
}

// Verdict is how a cell's observation compares with its expectation.
type Verdict string

const (
	// Holds: only allowed anomalies, and every expected one, were observed.
	Holds Verdict = "holds"
	// Violated: an anomaly the settings promise against was observed; the guarantee broke.
	Violated Verdict = "VIOLATED"
	// NotReproduced: an expected weakness did not show in this run. Not a broken
	// guarantee, but the matrix claims more than the run demonstrated.
	NotReproduced Verdict = "not reproduced"
	// Skipped: the target cannot take this fault (a remote cluster cannot be powered off).
	Skipped Verdict = "skipped"
	// Broken: the run itself failed (the workload could not start, or timed out).
	Broken Verdict = "error"
)

// Judge compares a checker result with the expectation.
func (e Expectation) Judge(r Result) (Verdict, []Anomaly) {
	var outside []Anomaly
	for _, a := range Anomalies {
		if r.Has(a) && !slices.Contains(e.Allowed, a) && !slices.Contains(e.Expected, a) {
			outside = append(outside, a)
		}
	}
	if len(outside) > 0 {
		return Violated, outside
	}
	var missing []Anomaly
	for _, a := range e.Expected {
		if !r.Has(a) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return NotReproduced, missing
	}
	return Holds, nil
}
