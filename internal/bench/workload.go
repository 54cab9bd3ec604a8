package bench

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/clientopt"
)

// Workload is what a run sends and how the clients are tuned. The zero value is not
// usable; start from DefaultWorkload.
type Workload struct {
	// Topic to use; empty means a fresh bench-<random> topic, deleted at the end unless
	// Keep. A named topic is created when missing and never deleted.
	Topic      string
	Keep       bool
	Partitions int32
	RecordSize int // value bytes per record; records have no key
	Producers  int // kgo clients producing in parallel
	Consumers  int // kgo clients consuming in parallel, each owning some partitions

	Acks        string // all, 1 or 0
	Idempotent  bool
	Compression string // none, gzip, snappy, lz4 or zstd

	// ReplicationFactor and MinInsyncReplicas (0: the broker's default) are the
	// replication of a topic the run creates.
	ReplicationFactor int16
	MinInsyncReplicas int
	// Cases, when set, run the phases once per case, each on a fresh topic, with the
	// case's replication and acks in place of the workload's own.
	Cases []Case
	// caseName labels the results of one case's run; empty outside withCase.
	caseName string

	// Transactional makes every producer client transactional, with its own
	// transactional id, committing a transaction every TxnInterval; only committed
	// records count.
	Transactional bool
	TxnInterval   time.Duration
	// CompareIdempotent runs the phases twice on each target, idempotent and then
	// transactional, each on a fresh topic, and reports the transactions' overhead.
	CompareIdempotent bool

	// Duration bounds each phase; Records, when positive, bounds it by count instead.
	Duration time.Duration
	Records  int64
	// RateMBps is the fixed rate of the open-loop produce phase, MB (10^6 bytes) per second.
	RateMBps float64

	Linger          time.Duration
	BatchMaxBytes   int32
	MaxBufferedMiB  int // per producer client
	FetchMaxBytes   int32
	FetchPartBytes  int32
	ProgressEvery   time.Duration // 0 disables progress lines
	ProgressLabel   string        // prefix of progress lines, usually the target name
	RequestTimeouts time.Duration // bound for admin requests and the final flush
}

// DefaultWorkload is 1 KiB records to 16 partitions (replication factor 1) from 4
// clients with acks=all and idempotence, for 10 seconds per phase.
func DefaultWorkload() Workload {
	return Workload{
		Partitions:      16,
		RecordSize:      1024,
		Producers:       4,
		Consumers:       4,
		Acks:            "all",
		Idempotent:      true,
		Compression:     "none",
		Duration:        10 * time.Second,
		RateMBps:        50,
		TxnInterval:     100 * time.Millisecond,
		Linger:          time.Millisecond,
		BatchMaxBytes:   1 << 20,
		MaxBufferedMiB:  32,
		FetchMaxBytes:   64 << 20,
		FetchPartBytes:  8 << 20,
		ProgressEvery:   time.Second,
		RequestTimeouts: 30 * time.Second,

		ReplicationFactor: 1,
	}
}

// Validate reports the first setting that cannot work.
func (w Workload) Validate() error {
	switch {
	case w.Partitions < 1:
		return errors.New("partitions must be at least 1")
	case w.RecordSize < 0:
		return errors.New("record size must not be negative")
	case w.Producers < 1 || w.Consumers < 1:
		return errors.New("producers and consumers must be at least 1")
	case w.Duration <= 0 && w.Records <= 0:
		return errors.New("a duration or a record count is needed")
	case w.RateMBps < 0:
		return errors.New("rate must not be negative")
	case w.BatchMaxBytes < 1024:
		return errors.New("batch max bytes must be at least 1024")
	case w.MaxBufferedMiB < 1:
		return errors.New("max buffered MiB must be at least 1")
	}
	if _, err := w.acks(); err != nil {
		return err
	}
	if _, err := w.compression(); err != nil {
		return err
	}
	if w.Idempotent && w.Acks != "all" && w.Acks != "-1" {
		return errors.New("idempotent producing needs acks=all (use --idempotent=false)")
	}
	if err := w.validateTransactions(); err != nil {
		return err
	}
	if err := w.validateReplication(); err != nil {
		return err
	}
	return w.validateCases()
}

func (w Workload) acks() (kgo.Acks, error) { return clientopt.Acks(w.Acks) }

func (w Workload) compression() (kgo.CompressionCodec, error) {
	return clientopt.Compression(w.Compression)
}

// recordsPerSecond is the open-loop schedule's total record rate.
func (w Workload) recordsPerSecond() float64 {
	return w.RateMBps * 1e6 / float64(max(w.RecordSize, 1))
}
