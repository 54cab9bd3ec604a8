package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/clientopt"
)

// parseKeyValues turns repeated "key=value" flags into ordered pairs. Order is kept
// because record headers are ordered and may repeat a key.
func parseKeyValues(flag string, items []string) ([][2]string, error) {
	pairs := make([][2]string, 0, len(items))
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return nil, &cliError{
				msg:  fmt.Sprintf("%s %q is not key=value", flag, item),
				hint: fmt.Sprintf("write it as %s name=value", flag),
			}
		}
		pairs = append(pairs, [2]string{k, v})
	}
	return pairs, nil
}

// parseConfigs is parseKeyValues for topic configs, where a key may appear only once.
func parseConfigs(flag string, items []string) (map[string]*string, error) {
	pairs, err := parseKeyValues(flag, items)
	if err != nil {
		return nil, err
	}
	configs := make(map[string]*string, len(pairs))
	for _, p := range pairs {
		if _, dup := configs[p[0]]; dup {
			return nil, &cliError{msg: fmt.Sprintf("%s sets %q twice", flag, p[0])}
		}
		v := p[1]
		configs[p[0]] = &v
	}
	return configs, nil
}

// parsePartitions reads "0,1,4-6" into sorted, distinct partition numbers.
func parsePartitions(spec string) ([]int32, error) {
	bad := func(part string) error {
		return &cliError{
			msg:  fmt.Sprintf("-p/--partitions %q: %q is not a partition number or range", spec, part),
			hint: "use a list such as 0,1,2 or a range such as 0-3",
		}
	}
	set := map[int32]bool{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.ParseInt(lo, 10, 32)
		if err != nil || first < 0 {
			return nil, bad(part)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseInt(hi, 10, 32); err != nil || last < first {
				return nil, bad(part)
			}
		}
		for p := first; p <= last; p++ {
			set[int32(p)] = true
		}
	}
	if len(set) == 0 {
		return nil, bad(spec)
	}
	out := make([]int32, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// parseAcks maps --acks to franz-go.
func parseAcks(s string) (kgo.Acks, error) {
	acks, err := clientopt.Acks(s)
	if err != nil {
		return acks, &cliError{msg: "--" + err.Error()}
	}
	return acks, nil
}

// parseCompression maps --compression to a franz-go codec.
func parseCompression(s string) (kgo.CompressionCodec, error) {
	codec, err := clientopt.Compression(s)
	if err != nil {
		return codec, &cliError{msg: "--" + err.Error()}
	}
	return codec, nil
}

// parseFrom maps consume --from to a franz-go start offset and says whether it is an
// exact offset. kgo clamps relative offsets to the partition's log start and end, so "-N"
// on a short partition starts at its beginning.
func parseFrom(s string) (start kgo.Offset, exact bool, err error) {
	switch strings.ToLower(s) {
	case "beginning", "start", "oldest":
		return kgo.NewOffset().AtStart(), false, nil
	case "end", "newest":
		return kgo.NewOffset().AtEnd(), false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return kgo.Offset{}, false, &cliError{
			msg:  fmt.Sprintf("--from %q is not beginning, end, an offset or -N", s),
			hint: "--from 42 starts at offset 42; --from -10 starts 10 records before the end",
		}
	}
	if n < 0 {
		return kgo.NewOffset().AtEnd().Relative(n), false, nil
	}
	return kgo.NewOffset().At(n), true, nil
}
