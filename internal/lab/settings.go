package lab

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Strategy is how a consumer orders processing and committing.
type Strategy int

const (
	// CommitBeforeProcess commits a poll's offsets, then processes it: at-most-once.
	CommitBeforeProcess Strategy = iota
	// CommitAfterProcess processes a poll, then commits its offsets: at-least-once.
	CommitAfterProcess
	// Transactional reads committed input and writes its output and its offsets in one
	// transaction (consume-transform-produce): exactly-once.
	Transactional
)

func (s Strategy) String() string {
	switch s {
	case CommitBeforeProcess:
		return "commit-before-process"
	case CommitAfterProcess:
		return "commit-after-process"
	default:
		return "transactional"
	}
}

// MarshalText names strategies in JSON reports.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Settings are one row of the guarantee matrix: a producer's delivery settings and the
// consumer strategy that goes with the guarantee they aim for.
type Settings struct {
	ID            string   `json:"id"` // for command lines: acks-0, acks-1, acks-all, idempotent, transactional
	Name          string   `json:"name"`
	Guarantee     string   `json:"guarantee"` // what a user choosing these settings is promised
	Acks          int16    `json:"acks"`      // 0, 1 or -1 (all)
	Retries       bool     `json:"retries"`
	Idempotent    bool     `json:"idempotent"`
	Transactional bool     `json:"transactional"`
	Consumer      Strategy `json:"consumer"`
}

// Rows are the settings of the guarantee matrix, weakest first.
var Rows = []Settings{
	{ID: "acks-0", Name: "acks=0", Guarantee: "at-most-once", Acks: 0, Consumer: CommitBeforeProcess},
	{ID: "acks-1", Name: "acks=1, retries", Guarantee: "at-least-once", Acks: 1, Retries: true, Consumer: CommitAfterProcess},
	{ID: "acks-all", Name: "acks=all, retries", Guarantee: "at-least-once", Acks: -1, Retries: true, Consumer: CommitAfterProcess},
	{ID: "idempotent", Name: "acks=all, idempotent", Guarantee: "at-least-once, no producer duplicates", Acks: -1, Retries: true, Idempotent: true, Consumer: CommitAfterProcess},
	{ID: "transactional", Name: "transactional", Guarantee: "exactly-once", Acks: -1, Retries: true, Idempotent: true, Transactional: true, Consumer: Transactional},
}

// RowByID finds a row of the matrix by its ID or its name.
func RowByID(id string) (Settings, bool) {
	for _, r := range Rows {
		if r.ID == id || r.Name == id {
			return r, true
		}
	}
	return Settings{}, false
}

// producerOpts are the kgo options of these settings. Without idempotence the client
// keeps Kafka's default of 5 requests in flight, so a retry can land after later batches,
// as it does with the Java client.
func (s Settings) producerOpts(deliveryTimeout time.Duration) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.ProducerLinger(2 * time.Millisecond),
		// A retry after a cut connection refreshes metadata first; kgo's default minimum
		// age of 5 s would only slow every cell down, not change what it shows.
		kgo.MetadataMinAge(250 * time.Millisecond),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.ProduceRequestTimeout(deliveryTimeout / 2),
	}
	switch s.Acks {
	case 0:
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	case 1:
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	default:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if !s.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	if !s.Retries {
		opts = append(opts, kgo.RecordRetries(1))
	}
	return opts
}
