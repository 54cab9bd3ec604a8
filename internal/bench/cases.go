package bench

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Case is one setting a run compares with others on the same cluster: the replication
// of the topic it creates and the producers' acks. Every case runs the phases on a
// fresh topic of its own, so that no case reads or competes with another's data.
type Case struct {
	ReplicationFactor int16 `json:"replication_factor"`
	// MinInsyncReplicas is the topic's min.insync.replicas; 0 leaves the broker's
	// default.
	MinInsyncReplicas int    `json:"min_insync_replicas,omitempty"`
	Acks              string `json:"acks"`
	Idempotent        bool   `json:"idempotent"`
}

// Name is the case in the syntax ParseCase reads, so that a row of a table can be run
// again as it is: rf=3,acks=all,min-isr=2. Idempotence is named only where it departs
// from what the acks imply (idempotent with acks=all, not otherwise).
func (c Case) Name() string {
	parts := []string{fmt.Sprintf("rf=%d", c.ReplicationFactor), "acks=" + c.Acks}
	if c.MinInsyncReplicas > 0 {
		parts = append(parts, fmt.Sprintf("min-isr=%d", c.MinInsyncReplicas))
	}
	if c.Idempotent != acksAll(c.Acks) {
		parts = append(parts, fmt.Sprintf("idempotent=%v", c.Idempotent))
	}
	return strings.Join(parts, ",")
}

func acksAll(acks string) bool { return acks == "all" || acks == "-1" }

// MarshalJSON adds the case's name, which results refer to it by.
func (c Case) MarshalJSON() ([]byte, error) {
	type fields Case // without this method
	return json.Marshal(struct {
		Name string `json:"name"`
		fields
	}{c.Name(), fields(c)})
}

// BaseCase is the case the workload's own settings describe; a run without cases runs
// it alone.
func (w Workload) BaseCase() Case {
	return Case{
		ReplicationFactor: w.ReplicationFactor,
		MinInsyncReplicas: w.MinInsyncReplicas,
		Acks:              w.Acks,
		Idempotent:        w.Idempotent,
	}
}

// ParseCase reads a case, key=value pairs separated by commas, over base: rf (or
// replication-factor), acks, min-isr (or min.insync.replicas), idempotent. A case that
// sets acks but not idempotent is idempotent exactly when its acks are all, as kgo's
// default is, unless keepIdempotent says the base's idempotence was asked for
// explicitly and holds for every case.
func ParseCase(spec string, base Case, keepIdempotent bool) (Case, error) {
	c := base
	setIdempotent, setAcks := false, false
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return c, fmt.Errorf("case %q: %q is not key=value", spec, kv)
		}
		var err error
		switch strings.TrimSpace(k) {
		case "rf", "replication-factor", "replication.factor":
			var n int64
			n, err = strconv.ParseInt(v, 10, 16)
			c.ReplicationFactor = int16(n)
		case "min-isr", "min-insync-replicas", "min.insync.replicas":
			c.MinInsyncReplicas, err = strconv.Atoi(v)
		case "acks":
			c.Acks, setAcks = v, true
		case "idempotent":
			c.Idempotent, err = strconv.ParseBool(v)
			setIdempotent = true
		default:
			return c, fmt.Errorf("case %q: unknown key %q; want rf, acks, min-isr or idempotent", spec, k)
		}
		if err != nil {
			return c, fmt.Errorf("case %q: %s: %w", spec, k, err)
		}
	}
	if setAcks && !setIdempotent && !keepIdempotent {
		c.Idempotent = acksAll(c.Acks)
	}
	return c, nil
}

// withCase is the workload with a case's settings, and no further cases of its own.
func (w Workload) withCase(c Case) Workload {
	w.ReplicationFactor = c.ReplicationFactor
	w.MinInsyncReplicas = c.MinInsyncReplicas
	w.Acks = c.Acks
	w.Idempotent = c.Idempotent
	w.Cases = nil
	w.caseName = c.Name()
	return w
}

// cases are the cases a run goes through: the workload's, or its base case alone.
func (w Workload) cases() []Case {
	if len(w.Cases) > 0 {
		return w.Cases
	}
	return []Case{w.BaseCase()}
}

// validateCases checks every case as a workload of its own, and that the cases can
// each have a fresh topic.
func (w Workload) validateCases() error {
	if len(w.Cases) > 1 && w.Topic != "" {
		return fmt.Errorf("several cases need a fresh topic each: drop the topic name (%s)", w.Topic)
	}
	for _, c := range w.Cases {
		if err := w.withCase(c).Validate(); err != nil {
			return fmt.Errorf("case %s: %w", c.Name(), err)
		}
	}
	return nil
}

// validateReplication checks the topic settings of the workload's own case.
func (w Workload) validateReplication() error {
	switch {
	case w.ReplicationFactor < 1:
		return fmt.Errorf("replication factor must be at least 1, not %d", w.ReplicationFactor)
	case w.MinInsyncReplicas < 0:
		return fmt.Errorf("min.insync.replicas must not be negative")
	case w.MinInsyncReplicas > int(w.ReplicationFactor):
		return fmt.Errorf("min.insync.replicas %d is above the replication factor %d: every acks=all produce would be refused",
			w.MinInsyncReplicas, w.ReplicationFactor)
	}
	return nil
}

// checkBrokers rejects cases whose replication factor the target cannot reach, before
// anything starts; brokers is 0 when the target's size is unknown (external).
func (w Workload) checkBrokers(t Target, brokers int) error {
	if brokers <= 0 {
		return nil
	}
	for _, c := range w.cases() {
		if int(c.ReplicationFactor) > brokers {
			hint := ""
			if t != TargetCluster {
				hint = fmt.Sprintf(" (start a cluster of processes with --nodes %d)", c.ReplicationFactor)
			}
			return fmt.Errorf("case %s: replication factor %d needs at least %d brokers, but the %s target has %d%s",
				c.Name(), c.ReplicationFactor, c.ReplicationFactor, t, brokers, hint)
		}
	}
	return nil
}
