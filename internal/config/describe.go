package config

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Entry is one config as DescribeConfigs reports it.
type Entry struct {
	Name          string
	Value         *string // nil when the config is unset and its default is null
	Source        kmsg.ConfigSource
	ReadOnly      bool
	Sensitive     bool
	Type          kmsg.ConfigType
	Documentation *string   // set when DescribeOptions.Documentation
	Synonyms      []Synonym // set when DescribeOptions.Synonyms; highest precedence first
}

// Synonym is one of the places a config's value could come from.
type Synonym struct {
	Name   string
	Value  *string
	Source kmsg.ConfigSource
}

// DescribeOptions mirror the DescribeConfigs request fields.
type DescribeOptions struct {
	Names         []string // nil or empty: all configs; unknown names are skipped, as Kafka does
	Synonyms      bool
	Documentation bool
}

func (o DescribeOptions) wants(name string) bool {
	return len(o.Names) == 0 || slices.Contains(o.Names, name)
}

// DescribeTopic reports a topic's configs, sorted by name: each override as
// DYNAMIC_TOPIC_CONFIG and every other known topic config with the value it inherits
// from the broker (STATIC_BROKER_CONFIG or DEFAULT_CONFIG). Synonyms list the override,
// then the explicitly set broker synonyms, then the broker synonyms' defaults, as
// Kafka does (retention.ms: DEFAULT_CONFIG log.retention.hours=168).
func DescribeTopic(overrides map[string]string, defaults Broker, opts DescribeOptions) []Entry {
	var entries []Entry
	for _, name := range topicSpecs.names {
		if !opts.wants(name) {
			continue
		}
		s := topicSpecs.byName[name]
		raw, source := topicValue(s, overrides, defaults)
		e := Entry{Name: name, Value: val(raw), Source: source, Type: s.rule.typ}
		if opts.Documentation {
			e.Documentation = val(s.doc)
		}
		if opts.Synonyms {
			e.Synonyms = topicSynonyms(s, overrides, defaults)
		}
		entries = append(entries, e)
	}
	return entries
}

func topicSynonyms(s *spec, overrides map[string]string, defaults Broker) []Synonym {
	synonyms := []Synonym{}
	if v, ok := overrides[s.name]; ok {
		synonyms = append(synonyms, Synonym{s.name, val(v), kmsg.ConfigSourceDynamicTopicConfig})
	}
	for _, syn := range s.synonyms {
		if v, ok := defaults.explicit[syn.name]; ok {
			synonyms = append(synonyms, Synonym{syn.name, val(v), kmsg.ConfigSourceStaticBrokerConfig})
		}
	}
	for _, syn := range s.synonyms {
		if b := brokerSpecs.byName[syn.name]; b != nil && b.def != nil {
			synonyms = append(synonyms, Synonym{syn.name, val(*b.def), kmsg.ConfigSourceDefaultConfig})
		}
	}
	return synonyms
}

// DescribeBroker reports the broker's configs, sorted by name. All are read-only:
// Waybill takes broker configs at startup and does not alter them at run time.
func DescribeBroker(b Broker, opts DescribeOptions) []Entry {
	var entries []Entry
	for _, name := range brokerSpecs.names {
		if !opts.wants(name) {
			continue
		}
		s := brokerSpecs.byName[name]
		e := Entry{Name: name, Source: kmsg.ConfigSourceDefaultConfig, ReadOnly: true, Type: s.rule.typ}
		if raw, explicit, ok := b.brokerValue(name); ok {
			e.Value = val(raw)
			if explicit {
				e.Source = kmsg.ConfigSourceStaticBrokerConfig
			}
		}
		if opts.Documentation {
			e.Documentation = val(s.doc)
		}
		if opts.Synonyms {
			e.Synonyms = brokerSynonyms(b, name)
		}
		entries = append(entries, e)
	}
	return entries
}

// brokerSynonyms lists name and the lower-precedence broker configs that fill in for it
// (log.retention.ms: log.retention.minutes, log.retention.hours), each where it has a
// value.
func brokerSynonyms(b Broker, name string) []Synonym {
	group := []string{name}
	for _, topicName := range topicSpecs.names {
		syns := topicSpecs.byName[topicName].synonyms
		for i, syn := range syns {
			if syn.name == name {
				group = group[:0]
				for _, rest := range syns[i:] {
					group = append(group, rest.name)
				}
			}
		}
	}
	synonyms := []Synonym{}
	for _, n := range group {
		raw, explicit, ok := b.brokerValue(n)
		if !ok {
			continue
		}
		source := kmsg.ConfigSourceDefaultConfig
		if explicit {
			source = kmsg.ConfigSourceStaticBrokerConfig
		}
		synonyms = append(synonyms, Synonym{n, val(raw), source})
	}
	return synonyms
}
