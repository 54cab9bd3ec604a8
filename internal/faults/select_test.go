package faults_test

import (
	"slices"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/faults"
)

// hits runs sel over n frames and returns the 1-based positions it hit.
func hits(sel faults.Selector, n int) []int {
	var out []int
	for i := 1; i <= n; i++ {
		if sel() {
			out = append(out, i)
		}
	}
	return out
}

func TestSelectors(t *testing.T) {
	for _, tc := range []struct {
		name string
		sel  faults.Selector
		want []int
	}{
		{"Nth(3,2)", faults.Nth(3, 2), []int{3, 4}},
		{"Nth(1,1)", faults.Nth(1, 1), []int{1}},
		{"Every(4,0)", faults.Every(4, 0), []int{4, 8, 12}},
		{"Every(4,2)", faults.Every(4, 2), []int{4, 8}},
		{"Every(0,5)", faults.Every(0, 5), nil},
		{"Probability(1,_,3)", faults.Probability(1, 7, 3), []int{1, 2, 3}},
		{"Probability(0,_,0)", faults.Probability(0, 7, 0), nil},
	} {
		if got := hits(tc.sel, 12); !slices.Equal(got, tc.want) {
			t.Errorf("%s hit %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestProbabilityIsSeeded(t *testing.T) {
	a, b := hits(faults.Probability(0.5, 42, 0), 200), hits(faults.Probability(0.5, 42, 0), 200)
	if !slices.Equal(a, b) {
		t.Fatalf("same seed, different hits:\n%v\n%v", a, b)
	}
	if len(a) < 60 || len(a) > 140 {
		t.Fatalf("p=0.5 hit %d of 200 frames", len(a))
	}
	if c := hits(faults.Probability(0.5, 43, 0), 200); slices.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 hit the same frames")
	}
	// A limit ends the hits without shifting the draws: the limited run is a prefix.
	if l := hits(faults.Probability(0.5, 42, 5), 200); !slices.Equal(l, a[:5]) {
		t.Fatalf("limit 5 hit %v, want %v", l, a[:5])
	}
}

func TestRulesMatchDirectionAndKey(t *testing.T) {
	req := func(key int16) faults.Frame { return faults.Frame{Dir: faults.ToBroker, APIKey: key} }
	resp := func(key int16) faults.Frame { return faults.Frame{Dir: faults.ToClient, APIKey: key} }
	r := faults.Rules(
		nil,
		faults.DropResponses(0, faults.Nth(2, 1)),
		faults.DelayFrames(faults.ToClient, faults.AnyKey, time.Second, faults.Always()),
		faults.DropRequests(3, faults.Always()),
	)
	for i, tc := range []struct {
		f    faults.Frame
		want faults.Action
	}{
		{req(0), faults.Action{}},
		{resp(0), faults.DelayBy(time.Second)}, // first Produce response: not picked, delay wins
		{resp(0), faults.Do(faults.Drop)},      // the second is dropped
		{resp(1), faults.DelayBy(time.Second)}, // the drop rule counts only Produce
		{resp(0), faults.DelayBy(time.Second)},
		{req(3), faults.Do(faults.Drop)},
		{resp(3), faults.DelayBy(time.Second)},
	} {
		if got := r(tc.f); got != tc.want {
			t.Errorf("frame %d %+v: got %+v, want %+v", i, tc.f, got, tc.want)
		}
	}
	for _, tc := range []struct {
		rule faults.Rule
		f    faults.Frame
		want faults.ActionKind
	}{
		{faults.CutConnections(faults.ToBroker, 1, nil), req(1), faults.Cut},
		{faults.CutConnections(faults.ToBroker, 1, nil), resp(1), faults.Pass},
		{faults.BlackHoleFrames(faults.ToClient, faults.AnyKey, nil), resp(9), faults.BlackHole},
	} {
		if got := tc.rule(tc.f); got.Kind != tc.want {
			t.Errorf("%+v: got %v, want %v", tc.f, got.Kind, tc.want)
		}
	}
}
