package bench

import (
	"encoding/json"
	"io"
	"runtime"
	"time"
)

// Report is a whole run: what was sent, where, on which machine, and what each phase
// measured. It is the --json output.
type Report struct {
	Workload WorkloadInfo `json:"workload"`
	Phases   []Phase      `json:"phases"`
	Targets  []TargetInfo `json:"targets"`
	// Cases are the settings compared, in order; empty when the run had none.
	Cases   []Case      `json:"cases,omitempty"`
	Machine MachineInfo `json:"machine"`
	Results []Result    `json:"results"`
}

// WorkloadInfo is the part of a Workload that shapes the results.
type WorkloadInfo struct {
	Topic         string  `json:"topic,omitempty"`
	RecordSize    int     `json:"record_size"`
	Partitions    int32   `json:"partitions"`
	Producers     int     `json:"producers"`
	Consumers     int     `json:"consumers"`
	Acks          string  `json:"acks"`
	Idempotent    bool    `json:"idempotent"`
	Compression   string  `json:"compression"`
	Duration      string  `json:"duration,omitempty"`
	Records       int64   `json:"records,omitempty"`
	RateMBps      float64 `json:"rate_mb_per_sec,omitempty"`
	Linger        string  `json:"linger"`
	BatchMaxBytes int32   `json:"batch_max_bytes"`
	// Transactional producers commit every TxnInterval; CompareIdempotent runs the
	// phases idempotent first, then transactional.
	Transactional     bool   `json:"transactional,omitempty"`
	CompareIdempotent bool   `json:"compare_idempotent,omitempty"`
	TxnInterval       string `json:"txn_interval,omitempty"`
	// The replication of the topics the run creates; cases override these and acks.
	ReplicationFactor int16 `json:"replication_factor"`
	MinInsyncReplicas int   `json:"min_insync_replicas,omitempty"`
}

// TargetInfo names a target and how it ran.
type TargetInfo struct {
	Name    string `json:"name"`
	Details string `json:"details"`
}

// MachineInfo is what the Go runtime knows about the machine.
type MachineInfo struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
}

func newReport(w Workload, phases []Phase) *Report {
	info := WorkloadInfo{
		Topic:         w.Topic,
		RecordSize:    w.RecordSize,
		Partitions:    w.Partitions,
		Producers:     w.Producers,
		Consumers:     w.Consumers,
		Acks:          w.Acks,
		Idempotent:    w.Idempotent,
		Compression:   w.Compression,
		Records:       w.Records,
		Linger:        w.Linger.String(),
		BatchMaxBytes: w.BatchMaxBytes,

		Transactional:     w.Transactional,
		CompareIdempotent: w.CompareIdempotent,

		ReplicationFactor: w.ReplicationFactor,
		MinInsyncReplicas: w.MinInsyncReplicas,
	}
	if w.Transactional || w.CompareIdempotent {
		info.TxnInterval = w.TxnInterval.String()
	}
	if w.Records <= 0 {
		info.Duration = w.Duration.Round(time.Millisecond).String()
	}
	for _, p := range phases {
		if p == PhaseProduceRate {
			info.RateMBps = w.RateMBps
		}
	}
	return &Report{
		Workload: info,
		Phases:   phases,
		Cases:    w.Cases,
		Machine:  MachineInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()},
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
