package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// BrokerCPU is the CPU time the broker processes used during a phase: user plus system
// time from /proc/<pid>/stat, summed over the processes, and per gigabyte (10^9 bytes)
// of the phase's records: acknowledged for a produce phase, read for a consume.
type BrokerCPU struct {
	Seconds       float64   `json:"seconds"`
	SecondsByNode []float64 `json:"seconds_by_node"` // node 1 first
	SecondsPerGB  float64   `json:"seconds_per_gb"`  // 0 when the phase moved nothing
}

// clockTicksPerSecond is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which
// Linux fixes at 100 for what it reports to user space whatever the kernel's own HZ.
const clockTicksPerSecond = 100

// cpuSampler reads the CPU time of a cluster's broker processes.
type cpuSampler struct{ pids []int }

// sample is each process's user plus system time so far.
func (s *cpuSampler) sample() ([]time.Duration, error) {
	out := make([]time.Duration, len(s.pids))
	for i, pid := range s.pids {
		d, err := processCPU(pid)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// processCPU reads utime and stime, fields 14 and 15 of /proc/<pid>/stat, which count
// every thread of the process. The command name (field 2) may hold spaces and
// parentheses, so the fields are counted from the last ')'.
func processCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := bytes.Fields(stat[i+1:]) // fields[0] is field 3, the state
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(string(f), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, nil
}

// Settling: after a phase the brokers may still work for it (followers copying what
// acks=1 acknowledged before they had it). The phase's CPU is read once they have been
// quiet for one settleWindow, using at most settleQuietPerNode each, or after settleMax.
// The window is 20 ticks long, so that the ticks' granularity does not decide.
const (
	settleWindow       = 200 * time.Millisecond
	settleQuietPerNode = 10 * time.Millisecond // 5% of a core
	settleMax          = 3 * time.Second
)

// settle waits until the brokers are quiet and returns the last sample.
func (s *cpuSampler) settle(ctx context.Context) ([]time.Duration, error) {
	last, err := s.sample()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(settleMax)
	quiet := settleQuietPerNode * time.Duration(len(s.pids))
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return last, nil
		case <-time.After(settleWindow):
		}
		now, err := s.sample()
		if err != nil {
			return nil, err
		}
		used := sumDurations(now) - sumDurations(last)
		last = now
		if used <= quiet {
			break
		}
	}
	return last, nil
}

func sumDurations(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum
}

// brokerCPU turns the samples around a phase that moved bytes into its BrokerCPU.
func brokerCPU(before, after []time.Duration, bytes int64) *BrokerCPU {
	c := &BrokerCPU{SecondsByNode: make([]float64, len(before))}
	for i := range before {
		c.SecondsByNode[i] = (after[i] - before[i]).Seconds()
		c.Seconds += c.SecondsByNode[i]
	}
	if bytes > 0 {
		c.SecondsPerGB = c.Seconds / (float64(bytes) / 1e9)
	}
	return c
}
