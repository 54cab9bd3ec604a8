package bench

import (
	"fmt"
	"io"
	"time"
)

// reportProgress writes one line to w every interval until stop is closed: the phase,
// the time since it began, the throughput over the last interval and, when latencies
// are recorded, the p99 so far.
func reportProgress(w io.Writer, interval time.Duration, label string, m *meter, stop <-chan struct{}) {
	if w == nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	lastAt, lastBytes, lastRecords := time.Now(), int64(0), int64(0)
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			bytes, records := m.bytes.Load(), m.records.Load()
			secs := now.Sub(lastAt).Seconds()
			line := fmt.Sprintf("%s %5.1fs %8.1f MB/s %10.0f rec/s", label,
				now.Sub(m.startedAt).Seconds(), float64(bytes-lastBytes)/1e6/secs,
				float64(records-lastRecords)/secs)
			if m.latency.Count() > 0 {
				line += fmt.Sprintf("  p99 %s", formatMillis(m.latency.Quantile(0.99)))
			}
			if m.txns != nil {
				line += fmt.Sprintf("  txns %d", m.txns.committed.Load())
			}
			if e := m.errors.Load(); e > 0 {
				line += fmt.Sprintf("  errors %d", e)
			}
			fmt.Fprintln(w, line)
			lastAt, lastBytes, lastRecords = now, bytes, records
		}
	}
}

// formatMillis prints a duration in milliseconds with precision that suits its size.
func formatMillis(d time.Duration) string {
	ms := float64(d) / 1e6
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 1000:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}
