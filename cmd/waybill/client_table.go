package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// textTable prints aligned columns. Every command's tabular output goes through it so that
// all tables look alike and stay easy to read with awk or cut (cells never contain tabs).
type textTable struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, headers ...string) *textTable {
	t := &textTable{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
	if len(headers) > 0 {
		t.row(toAny(headers)...)
	}
	return t
}

func (t *textTable) row(cells ...any) {
	strs := make([]string, len(cells))
	for i, c := range cells {
		strs[i] = strings.ReplaceAll(fmt.Sprint(c), "\t", " ")
	}
	fmt.Fprintln(t.tw, strings.Join(strs, "\t"))
}

func (t *textTable) flush() error { return t.tw.Flush() }

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// int32List renders broker ids as "1,2,3" so a replica list stays one table cell.
func int32List(ids []int32) string {
	strs := make([]string, len(ids))
	for i, id := range ids {
		strs[i] = fmt.Sprint(id)
	}
	return strings.Join(strs, ",")
}
