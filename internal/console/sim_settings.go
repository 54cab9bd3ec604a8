package console

import (
	"fmt"
	"strings"

	"github.com/waybill/waybill/internal/lab"
)

// SimSettings are the simulator's controls: the producer's delivery settings, the
// consumer's strategy, and the topic's partitions and replication on the sandbox cluster.
type SimSettings struct {
	Acks          string `json:"acks"` // "0", "1" or "all"
	Retries       bool   `json:"retries"`
	Idempotent    bool   `json:"idempotence"`
	Transactional bool   `json:"transactions"`
	// Consumer is a lab.Strategy by name: commit-before-process (at-most-once),
	// commit-after-process (at-least-once) or transactional (exactly-once).
	Consumer   string `json:"consumer"`
	Partitions int32  `json:"partitions"` // 1 to 6
	// ReplicationFactor is the topic's replicas, 1 to the sandbox's nodes; default all.
	ReplicationFactor int16 `json:"replication_factor"`
	// MinISR is the topic's min.insync.replicas, 1 to ReplicationFactor; default 2 (1
	// with a single replica).
	MinISR int `json:"min_insync_replicas"`
}

// defaultSettings are those of a first visit: the at-least-once producer most
// applications run, so that the lost-ack demonstration needs one click.
var defaultSettings = SimSettings{Acks: "all", Retries: true, Consumer: lab.CommitAfterProcess.String(), Partitions: 1,
	ReplicationFactor: sandboxNodes, MinISR: 2}

// normalize applies what the settings imply, as Kafka clients do: transactions need
// idempotence, which needs acks=all and retries. It rejects what cannot be run.
func (s SimSettings) normalize() (SimSettings, error) {
	if s.Transactional {
		s.Idempotent = true
	}
	if s.Idempotent {
		s.Acks, s.Retries = "all", true
	}
	switch s.Acks {
	case "0", "1", "all":
	case "-1":
		s.Acks = "all"
	default:
		return s, fmt.Errorf("acks must be 0, 1 or all, not %q", s.Acks)
	}
	if s.Consumer == "" {
		s.Consumer = defaultSettings.Consumer
	}
	if _, ok := strategyByName(s.Consumer); !ok {
		return s, fmt.Errorf("unknown consumer strategy %q", s.Consumer)
	}
	if s.Partitions == 0 {
		s.Partitions = 1
	}
	if s.Partitions < 1 || s.Partitions > 6 {
		return s, fmt.Errorf("partitions must be between 1 and 6, not %d", s.Partitions)
	}
	if s.ReplicationFactor == 0 {
		s.ReplicationFactor = sandboxNodes
	}
	if s.ReplicationFactor < 1 || s.ReplicationFactor > sandboxNodes {
		return s, fmt.Errorf("the replication factor must be between 1 and %d (the sandbox's nodes), not %d", sandboxNodes, s.ReplicationFactor)
	}
	if s.MinISR == 0 {
		s.MinISR = min(2, int(s.ReplicationFactor))
	}
	if s.MinISR < 1 || s.MinISR > int(s.ReplicationFactor) {
		// Kafka would create such a topic, and refuse every acks=all write to it.
		return s, fmt.Errorf("min.insync.replicas must be between 1 and the replication factor (%d), not %d", s.ReplicationFactor, s.MinISR)
	}
	return s, nil
}

func strategyByName(name string) (lab.Strategy, bool) {
	for _, st := range []lab.Strategy{lab.CommitBeforeProcess, lab.CommitAfterProcess, lab.Transactional} {
		if st.String() == name {
			return st, true
		}
	}
	return 0, false
}

// lab is the settings as a row of the lab's matrix.
func (s SimSettings) lab() lab.Settings {
	st, _ := strategyByName(s.Consumer)
	acks := map[string]int16{"0": 0, "1": 1, "all": -1}[s.Acks]
	return lab.Settings{ID: "simulator", Name: s.String(), Acks: acks, Retries: s.Retries,
		Idempotent: s.Idempotent, Transactional: s.Transactional, Consumer: st}
}

// String is the settings in a few words, as the event log shows them.
func (s SimSettings) String() string {
	parts := []string{"acks=" + s.Acks}
	switch {
	case s.Transactional:
		parts = append(parts, "transactional")
	case s.Idempotent:
		parts = append(parts, "idempotent")
	case s.Retries:
		parts = append(parts, "retries")
	default:
		parts = append(parts, "no retries")
	}
	parts = append(parts, "consumer "+s.Consumer, fmt.Sprintf("%d partition(s)", s.Partitions),
		fmt.Sprintf("replication factor %d", s.ReplicationFactor), fmt.Sprintf("min.insync.replicas %d", s.MinISR))
	return strings.Join(parts, ", ")
}
