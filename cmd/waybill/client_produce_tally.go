package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// produceTally counts what happened to produced records. Promises run on franz-go's
// goroutines, one per partition, so every method takes the lock.
type produceTally struct {
	mu      sync.Mutex
	out     io.Writer // where --print-offsets goes; nil when not printing
	lines   int
	ok      int
	okBytes int64
	failed  int
	byError map[string]*errorCount
}

type errorCount struct {
	n         int
	firstLine int
	err       error
}

func newProduceTally(out io.Writer, printOffsets bool) *produceTally {
	t := &produceTally{byError: map[string]*errorCount{}}
	if printOffsets {
		t.out = out
	}
	return t
}

// sent notes one more line handed to the producer and returns its 1-based line number.
func (t *produceTally) sent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines++
	return t.lines
}

func (t *produceTally) done(line int, r *kgo.Record, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.failed++
		key := err.Error()
		ec := t.byError[key]
		if ec == nil {
			ec = &errorCount{firstLine: line, err: err}
			t.byError[key] = ec
		}
		ec.n++
		if line < ec.firstLine {
			ec.firstLine = line
		}
		return
	}
	t.ok++
	t.okBytes += int64(len(r.Key) + len(r.Value))
	if t.out != nil {
		fmt.Fprintf(t.out, "line %d: partition %d offset %d\n", line, r.Partition, r.Offset)
	}
}

func (t *produceTally) failedCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

// summarize writes the one-line summary, then one line per distinct error, to w.
func (t *produceTally) summarize(w io.Writer, topic string, interrupted bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	how := ""
	if interrupted {
		how = " (interrupted; input after that was not read)"
	}
	fmt.Fprintf(w, "produced %d records (%d bytes) to %s, %d errors%s\n", t.ok, t.okBytes, topic, t.failed, how)
	for _, ec := range t.sortedErrors() {
		fmt.Fprintf(w, "  %d records failed (first at line %d): %v\n", ec.n, ec.firstLine, ec.err)
	}
}

func (t *produceTally) sortedErrors() []*errorCount {
	all := make([]*errorCount, 0, len(t.byError))
	for _, ec := range t.byError {
		all = append(all, ec)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].firstLine < all[j].firstLine })
	return all
}

func (t *produceTally) asError(cfg *clientConfig) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var hints []string
	for _, ec := range t.sortedErrors() {
		if h := cfg.hint(ec.err); h != "" {
			hints = append(hints, h)
		}
	}
	first := t.sortedErrors()[0]
	return &cliError{
		msg:  fmt.Sprintf("%d of %d records were not produced: %v", t.failed, t.lines, first.err),
		hint: strings.Join(hints, "; "),
		err:  first.err,
	}
}
