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
	// Transactional marks a phase of a transactional run: a produce phase's Records,
	// Bytes and rates then count committed records only and Transactions has the
	// transactions' own figures; a consume phase read committed records only.
	Transactional bool          `json:"transactional,omitempty"`
	Transactions  *Transactions `json:"transactions,omitempty"`
	// Case names the case (Case.Name) of a run that has cases.
	Case string `json:"case,omitempty"`
	// BrokerCPU is the brokers' CPU time, for a cluster of broker processes only.
	BrokerCPU *BrokerCPU `json:"broker_cpu,omitempty"`
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
	r.Latency = summarize(&m.latency)
	r.Transactions = m.txns.summary(elapsed)
	return r
}

// summarize turns a histogram into its Latency in milliseconds; nil when it is empty.
func summarize(h *Histogram) *Latency {
	if h.Count() == 0 {
		return nil
	}
	return &Latency{
		P50:  millis(h.Quantile(0.5)),
		P99:  millis(h.Quantile(0.99)),
		P999: millis(h.Quantile(0.999)),
		Max:  millis(h.Max()),
		Mean: millis(h.Mean()),
	}
}

func millis(d time.Duration) float64 { return float64(d) / 1e6 }
