package cluster

import (
	"maps"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
)

// ConfigChange is a change of one topic's config overrides as a client asks it: a whole
// new set (AlterConfigs) or operations on the current one (IncrementalAlterConfigs). It
// travels to the controller as asked, not as the overrides it would make here, because
// the controller applies it to the overrides in its own image: a change made through
// another broker meanwhile is built on, not undone.
type ConfigChange struct {
	incremental bool
	replace     map[string]*string
	ops         []config.AlterOp
}

// ReplaceConfigs is AlterConfigs' change: exactly these overrides, every other config
// back to its default; a nil value sets none.
func ReplaceConfigs(entries map[string]*string) ConfigChange {
	return ConfigChange{replace: entries}
}

// IncrementalConfigs is IncrementalAlterConfigs' change: SET, DELETE, APPEND and
// SUBTRACT on the current overrides (config.IncrementalAlterTopicConfigs).
func IncrementalConfigs(ops []config.AlterOp) ConfigChange {
	return ConfigChange{incremental: true, ops: ops}
}

// apply returns the overrides after the change, validated; current is not modified.
func (c ConfigChange) apply(current map[string]string, defaults config.Broker) (map[string]string, error) {
	if c.incremental {
		return config.IncrementalAlterTopicConfigs(current, c.ops, defaults)
	}
	return config.ReplaceTopicConfigs(c.replace, defaults)
}

// shownIn reports whether overrides reflect the change: applying it again would change
// nothing. A replacement is its own result; every incremental operation is idempotent
// (SET and DELETE; APPEND adds only missing items, SUBTRACT removes present ones), so
// the overrides the change made pass whatever they were built on.
func (c ConfigChange) shownIn(overrides map[string]string, defaults config.Broker) bool {
	next, err := c.apply(overrides, defaults)
	return err == nil && maps.Equal(next, overrides)
}

// request is the change as the Kafka request for one topic that asks it of the
// controller.
func (c ConfigChange) request(topic string) kmsg.Request {
	if c.incremental {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		res := kmsg.NewIncrementalAlterConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
		for _, op := range c.ops {
			rc := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
			rc.Name, rc.Op, rc.Value = op.Name, op.Op, op.Value
			res.Configs = append(res.Configs, rc)
		}
		req.Resources = append(req.Resources, res)
		return req
	}
	req := kmsg.NewPtrAlterConfigsRequest()
	res := kmsg.NewAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	for name, value := range c.replace {
		rc := kmsg.NewAlterConfigsRequestResourceConfig()
		rc.Name, rc.Value = name, value
		res.Configs = append(res.Configs, rc)
	}
	req.Resources = append(req.Resources, res)
	return req
}
