package bench

import "time"

// Phase is one measured step of a run.
type Phase string

const (
	// PhaseProduce produces as fast as acks come back (closed loop): throughput.
	PhaseProduce Phase = "produce"
	// PhaseProduceRate produces on a fixed schedule (open loop): latency at a given
	// load, measured from each record's intended send time.
	PhaseProduceRate Phase = "produce-rate"
	// PhaseConsume reads the topic from the start until caught up: throughput.
	PhaseConsume Phase = "consume"
)

// Result is what one phase measured against one target.
type Result struct {
	Target        string   `json:"target"`
	Phase         Phase    `json:"phase"`
	Records       int64    `json:"records"`
	Bytes         int64    `json:"bytes"`
	Errors        int64    `json:"errors"`
	FirstError    string   `json:"first_error,omitempty"`
	Seconds       float64  `json:"seconds"`
	MBPerSec      float64  `json:"mb_per_sec"`
	RecordsPerSec float64  `json:"records_per_sec"`
	TargetMBPerS  float64  `json:"target_mb_per_sec,omitempty"` // produce-rate only
	Latency       *Latency `json:"latency_ms,omitempty"`        // produce phases only
}

// Latency summarises a histogram in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// result turns a finished phase's meter into its Result.
func (m *meter) result(target string, phase Phase, elapsed time.Duration) Result {
	r := Result{
		Target:     target,
		Phase:      phase,
		Records:    m.records.Load(),
		Bytes:      m.bytes.Load(),
		Errors:     m.errors.Load(),
		FirstError: m.firstError(),
		Seconds:    elapsed.Seconds(),
	}
	if secs := elapsed.Seconds(); secs > 0 {
		r.MBPerSec = float64(r.Bytes) / 1e6 / secs
		r.RecordsPerSec = float64(r.Records) / secs
	}
	if m.latency.Count() > 0 {
		ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
		r.Latency = &Latency{
			P50:  ms(m.latency.Quantile(0.5)),
			P99:  ms(m.latency.Quantile(0.99)),
			P999: ms(m.latency.Quantile(0.999)),
			Max:  ms(m.latency.Max()),
			Mean: ms(m.latency.Mean()),
		}
	}
	return r
}
