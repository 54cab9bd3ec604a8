package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// A rule parses a raw value the way Kafka's ConfigDef does for the config's type and
// checks Kafka's validator. want describes the accepted values for error messages.
type rule struct {
	typ  kmsg.ConfigType
	ok   func(raw string) bool
	want string
}

func (r rule) check(name, raw string) error {
	if !r.ok(raw) {
		return invalidConfig("invalid value %q for configuration %s: must be %s", raw, name, r.want)
	}
	return nil
}

const (
	maxInt32 = math.MaxInt32
	maxInt64 = math.MaxInt64
	minInt32 = math.MinInt32
	minInt64 = math.MinInt64
)

func parseInt(raw string, bits int) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, bits)
	return n, err == nil
}

func parseBool(raw string) (bool, bool) {
	// Kafka accepts "true"/"false" in any case, surrounded by spaces, and nothing else.
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func parseDouble(raw string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	return f, err == nil && !math.IsNaN(f)
}

// parseList splits a Kafka LIST value: comma-separated, items trimmed, "" is empty.
func parseList(raw string) []string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	items := strings.Split(raw, ",")
	for i := range items {
		items[i] = strings.TrimSpace(items[i])
	}
	return items
}

func rangeWant(kind string, lo, hi, typeMin, typeMax int64) string {
	switch {
	case lo == typeMin && hi == typeMax:
		return "a " + kind
	case hi == typeMax:
		return fmt.Sprintf("a %s >= %d", kind, lo)
	default:
		return fmt.Sprintf("a %s in [%d, %d]", kind, lo, hi)
	}
}

func intRange(lo, hi int64) rule {
	return rule{kmsg.ConfigTypeInt, func(raw string) bool {
		n, ok := parseInt(raw, 32)
		return ok && n >= lo && n <= hi
	}, rangeWant("32-bit integer", lo, hi, minInt32, maxInt32)}
}

func intAtLeast(lo int64) rule { return intRange(lo, maxInt32) }

func shortAtLeast(lo int64) rule {
	return rule{kmsg.ConfigTypeShort, func(raw string) bool {
		n, ok := parseInt(raw, 16)
		return ok && n >= lo
	}, rangeWant("16-bit integer", lo, math.MaxInt16, math.MinInt16, math.MaxInt16)}
}

func longAtLeast(lo int64) rule {
	return rule{kmsg.ConfigTypeLong, func(raw string) bool {
		n, ok := parseInt(raw, 64)
		return ok && n >= lo
	}, rangeWant("long", lo, maxInt64, minInt64, maxInt64)}
}

func anyLong() rule { return longAtLeast(minInt64) }

func doubleBetween(lo, hi float64) rule {
	return rule{kmsg.ConfigTypeDouble, func(raw string) bool {
		f, ok := parseDouble(raw)
		return ok && f >= lo && f <= hi
	}, fmt.Sprintf("a double in [%g, %g]", lo, hi)}
}

func boolean() rule {
	return rule{kmsg.ConfigTypeBoolean, func(raw string) bool {
		_, ok := parseBool(raw)
		return ok
	}, "true or false"}
}

// onlyFalse is a boolean that Waybill accepts only as false: the feature it switches on
// (tiered storage) does not exist here, and silently ignoring true would be a lie.
func onlyFalse() rule {
	return rule{kmsg.ConfigTypeBoolean, func(raw string) bool {
		v, ok := parseBool(raw)
		return ok && !v
	}, "false (Waybill does not support this feature)"}
}

// oneOf is a STRING from a fixed, case-sensitive set, as Kafka's ValidString.in.
func oneOf(values ...string) rule {
	return rule{kmsg.ConfigTypeString, func(raw string) bool {
		return slices.Contains(values, strings.TrimSpace(raw))
	}, "one of " + strings.Join(values, ", ")}
}

// listOf is a non-empty LIST whose items come from a fixed set, as Kafka's ValidList.in.
func listOf(values ...string) rule {
	return rule{kmsg.ConfigTypeList, func(raw string) bool {
		items := parseList(raw)
		if len(items) == 0 {
			return false
		}
		for _, item := range items {
			if !slices.Contains(values, item) {
				return false
			}
		}
		return true
	}, "a comma-separated list of " + strings.Join(values, ", ")}
}

// throttledReplicas is Kafka's throttled replica list: "*" or partition:broker pairs.
func throttledReplicas() rule {
	return rule{kmsg.ConfigTypeList, func(raw string) bool {
		items := parseList(raw)
		if len(items) == 1 && items[0] == "*" {
			return true
		}
		for _, item := range items {
			partition, broker, found := strings.Cut(item, ":")
			if !found {
				return false
			}
			if _, ok := parseInt(partition, 32); !ok {
				return false
			}
			if _, ok := parseInt(broker, 32); !ok {
				return false
			}
		}
		return true
	}, `"*" or a comma-separated list of partition:broker pairs`}
}

// gzipLevel accepts -1 (the codec's default) or 1..9, as Kafka's gzip level validator.
func gzipLevel() rule {
	return rule{kmsg.ConfigTypeInt, func(raw string) bool {
		n, ok := parseInt(raw, 32)
		return ok && (n == -1 || (n >= 1 && n <= 9))
	}, "-1 or a 32-bit integer in [1, 9]"}
}
