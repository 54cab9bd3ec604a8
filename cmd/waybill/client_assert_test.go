package main

import (
	"errors"
	"sort"
	"strings"
	"testing"
)

// tableCells splits a table line into its cells (cells never contain spaces in these tests).
func tableCells(line string) []string { return strings.Fields(line) }

func hasRow(out string, cells ...string) bool {
	want := strings.Join(cells, " ")
	for _, l := range strings.Split(out, "\n") {
		if strings.Join(tableCells(l), " ") == want {
			return true
		}
	}
	return false
}

func hasRowPrefix(out, first string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := tableCells(l); len(f) > 0 && f[0] == first {
			return true
		}
	}
	return false
}

func wantRow(t *testing.T, out string, cells ...string) {
	t.Helper()
	if !hasRow(out, cells...) {
		t.Errorf("output lacks row %q:\n%s", cells, out)
	}
}

// wantRows checks that out is exactly these rows, in order.
func wantRows(t *testing.T, out string, rows [][]string) {
	t.Helper()
	got := outputLines(out)
	if len(got) != len(rows) {
		t.Fatalf("got %d rows, want %d:\n%s", len(got), len(rows), out)
	}
	for i, row := range rows {
		if strings.Join(tableCells(got[i]), " ") != strings.Join(row, " ") {
			t.Errorf("row %d = %q, want %q", i, got[i], row)
		}
	}
}

// rowsBetween returns the non-empty lines after the line `from` and before the line `to`.
func rowsBetween(out, from, to string) []string {
	var rows []string
	in := false
	for _, l := range outputLines(out) {
		switch {
		case l == from:
			in = true
		case l == to:
			return rows
		case in:
			rows = append(rows, l)
		}
	}
	return rows
}

// wantErrorWith checks that err wraps target (when non-nil) and mentions every substring.
func wantErrorWith(t *testing.T, err, target error, substrings ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got nil")
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("error %q does not wrap %v", err, target)
	}
	for _, s := range substrings {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

// sortedLines returns the non-empty lines of out, sorted, for output whose order across
// partitions is not defined.
func sortedLines(out string) []string {
	ls := outputLines(out)
	sort.Strings(ls)
	return ls
}
