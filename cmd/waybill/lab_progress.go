package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/waybill/waybill/internal/lab"
)

// progressBar redraws one line on a terminal, with the cells running at the moment, and
// prints a line per finished cell otherwise (a log file, CI).
func progressBar(w io.Writer) func(lab.Progress) {
	columns, tty := terminal(w)
	return drawProgress(w, columns, tty)
}

// drawProgress is progressBar on a terminal columns wide (tty) or on a file.
func drawProgress(w io.Writer, columns int, tty bool) func(lab.Progress) {
	start := time.Now()
	return func(p lab.Progress) {
		elapsed := time.Since(start).Round(time.Second)
		if !tty {
			if last := p.Last; last != nil {
				fmt.Fprintf(w, "[%d/%d %s] %s × %s: %s (%s)\n", p.Done, p.Total, elapsed, last.Row, last.Fault, last.Short(), last.Duration.Round(10*time.Millisecond))
			}
			return
		}
		const width = 30
		filled := p.Done * width / max(p.Total, 1)
		line := fmt.Sprintf("%s%s %d/%d %s", strings.Repeat("█", filled), strings.Repeat("░", width-filled), p.Done, p.Total, elapsed)
		if p.Done == p.Total {
			fmt.Fprintf(w, "\r\033[K%s\n", line)
			return
		}
		if len(p.Running) > 0 {
			line += fmt.Sprintf("  running %d: %s", len(p.Running), strings.Join(p.Running, "; "))
		}
		// A line longer than the terminal wraps, and \r then redraws only its last part.
		if r := []rune(line); len(r) >= columns {
			line = string(r[:columns-2]) + "…"
		}
		fmt.Fprintf(w, "\r\033[K%s", line)
	}
}

// terminal says whether w is a terminal, and how wide.
func terminal(w io.Writer) (columns int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0, false
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return 0, false
	}
	if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col >= 40 {
		return int(ws.Col), true
	}
	return 80, true
}
