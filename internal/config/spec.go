package config

import (
	"sort"
	"strconv"
)

// spec describes one known config: its name, type and validator, its default (nil for
// Kafka's null default) and a one-line documentation.
type spec struct {
	name string
	rule rule
	def  *string
	doc  string
	// synonyms, for topic configs only: the broker configs that supply the topic's
	// default, in precedence order.
	synonyms []synonym
}

// synonym names a broker config and how to turn its value into the topic config's unit.
type synonym struct {
	name    string
	toTopic func(raw string) string // nil: same unit
}

func (s synonym) convert(raw string) string {
	if s.toTopic == nil {
		return raw
	}
	return s.toTopic(raw)
}

func val(s string) *string { return &s }

func itoa(n int64) *string { return val(strconv.FormatInt(n, 10)) }

// scaledToMs converts a broker value in hours or minutes to milliseconds. As Kafka does
// for log.retention.*, any negative value means "unlimited" and becomes -1.
func scaledToMs(unitMs int64) func(string) string {
	return func(raw string) string {
		n, ok := parseInt(raw, 64)
		if !ok {
			return raw // unreachable for validated values
		}
		if n < 0 {
			return "-1"
		}
		return strconv.FormatInt(n*unitMs, 10)
	}
}

const (
	msPerMinute = 60 * 1000
	msPerHour   = 60 * msPerMinute
)

type specTable struct {
	byName map[string]*spec
	names  []string // sorted
}

func newSpecTable(specs []spec) specTable {
	t := specTable{byName: make(map[string]*spec, len(specs))}
	for i := range specs {
		s := &specs[i]
		if _, dup := t.byName[s.name]; dup {
			panic("config: duplicate spec " + s.name)
		}
		t.byName[s.name] = s
		t.names = append(t.names, s.name)
	}
	sort.Strings(t.names)
	return t
}
