package config

import (
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ReplaceTopicConfigs implements AlterConfigs (the legacy, full-replace API) for a
// topic: the new override map is exactly the entries with a non-nil value; configs not
// named go back to their defaults. As in Kafka, nil values are dropped.
func ReplaceTopicConfigs(entries map[string]*string, defaults Broker) (map[string]string, error) {
	overrides := make(map[string]string, len(entries))
	for name, v := range entries {
		if v != nil {
			overrides[name] = *v
		}
	}
	if _, err := ParseTopic(overrides, defaults); err != nil {
		return nil, err
	}
	return overrides, nil
}

// AlterOp is one IncrementalAlterConfigs operation.
type AlterOp struct {
	Name  string
	Op    kmsg.IncrementalAlterConfigOp
	Value *string
}

// IncrementalAlterTopicConfigs applies IncrementalAlterConfigs operations to a topic's
// current overrides and returns the new, validated override map; current is not
// modified.
//
//   - SET replaces the override; a nil value is INVALID_REQUEST.
//   - DELETE removes the override (the config returns to its default).
//   - APPEND and SUBTRACT add or remove comma-separated items of a LIST config
//     (cleanup.policy, the throttled replica lists); on other types they are
//     INVALID_CONFIG. Items already present are not appended twice. As in Kafka, a
//     topic without an override starts from the config's own default, not the broker's.
//
// A name named twice is INVALID_REQUEST; an unknown name is INVALID_CONFIG.
func IncrementalAlterTopicConfigs(current map[string]string, ops []AlterOp, defaults Broker) (map[string]string, error) {
	seen := make(map[string]bool, len(ops))
	for _, op := range ops {
		if seen[op.Name] {
			return nil, invalidRequest("config %s is named more than once", op.Name)
		}
		seen[op.Name] = true
	}
	next := maps.Clone(current)
	if next == nil {
		next = make(map[string]string)
	}
	for _, op := range ops {
		s, known := topicSpecs.byName[op.Name]
		if !known {
			return nil, unknownConfig("topic config name", op.Name)
		}
		switch op.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if op.Value == nil {
				return nil, invalidRequest("null value not supported for SET of %s", op.Name)
			}
			next[op.Name] = *op.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(next, op.Name)
		case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
			if s.rule.typ != kmsg.ConfigTypeList {
				return nil, invalidConfig("%s is not allowed for %s, which is not a list", op.Op, op.Name)
			}
			base, ok := next[op.Name]
			if !ok {
				base = *s.def
			}
			var operand []string
			if op.Value != nil {
				operand = parseList(*op.Value)
			}
			next[op.Name] = strings.Join(applyListOp(parseList(base), operand, op.Op), ",")
		default:
			return nil, invalidRequest("unknown IncrementalAlterConfigs operation %d for %s", op.Op, op.Name)
		}
	}
	if _, err := ParseTopic(next, defaults); err != nil {
		return nil, err
	}
	return next, nil
}

func applyListOp(items, operand []string, op kmsg.IncrementalAlterConfigOp) []string {
	if op == kmsg.IncrementalAlterConfigOpAppend {
		for _, item := range operand {
			if !slices.Contains(items, item) {
				items = append(items, item)
			}
		}
		return items
	}
	return slices.DeleteFunc(items, func(item string) bool { return slices.Contains(operand, item) })
}
