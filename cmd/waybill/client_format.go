package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// recordFormat appends one consumed record, newline included, to dst.
type recordFormat func(dst []byte, r *kgo.Record) []byte

// formatVerbs documents the %-verbs of a consume format string, kcat-style.
const formatVerbs = `%t topic, %p partition, %o offset, %k key, %v (or %s) value, %T timestamp (ms),
%h headers (k=v,k=v), %K key length, %S value length, %e leader epoch, %% a percent sign;
escapes \n \t \r \\. A newline is added unless the format already ends with one.`

// newRecordFormat compiles --format: "text" prints each value on its own line, "json" one
// object per line, and anything containing % is a format string.
func newRecordFormat(spec string) (recordFormat, error) {
	switch spec {
	case "text", "":
		return func(dst []byte, r *kgo.Record) []byte { return append(append(dst, r.Value...), '\n') }, nil
	case "json":
		return appendJSONRecord, nil
	}
	if !strings.Contains(spec, "%") {
		return nil, &cliError{
			msg:  fmt.Sprintf("--format %q is not text, json or a format string", spec),
			hint: `e.g. --format '%t %p %o %k %v' (verbs: see waybill consume --help)`,
		}
	}
	return compileFormatString(spec)
}

// compileFormatString turns the format string into a list of small appenders once, so
// formatting a record does no parsing.
func compileFormatString(spec string) (recordFormat, error) {
	var parts []recordFormat
	literal := func(s string) recordFormat {
		return func(dst []byte, _ *kgo.Record) []byte { return append(dst, s...) }
	}
	var lit strings.Builder
	flushLiteral := func() {
		if lit.Len() > 0 {
			parts = append(parts, literal(lit.String()))
			lit.Reset()
		}
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		if c != '%' && c != '\\' {
			lit.WriteByte(c)
			continue
		}
		if i+1 == len(spec) {
			return nil, &cliError{msg: fmt.Sprintf("--format %q ends with a lone %q", spec, c), hint: "write %% or \\\\ for the character itself"}
		}
		i++
		if c == '\\' {
			esc, ok := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\'}[spec[i]]
			if !ok {
				return nil, &cliError{msg: fmt.Sprintf("--format %q: unknown escape \\%c", spec, spec[i]), hint: `escapes are \n \t \r \\`}
			}
			lit.WriteByte(esc)
			continue
		}
		if spec[i] == '%' {
			lit.WriteByte('%')
			continue
		}
		verb, ok := formatVerbFuncs[spec[i]]
		if !ok {
			return nil, &cliError{msg: fmt.Sprintf("--format %q: unknown verb %%%c", spec, spec[i]), hint: "verbs are " + strings.ReplaceAll(formatVerbs, "\n", " ")}
		}
		flushLiteral()
		parts = append(parts, verb)
	}
	if !strings.HasSuffix(lit.String(), "\n") {
		lit.WriteByte('\n')
	}
	flushLiteral()
	return func(dst []byte, r *kgo.Record) []byte {
		for _, p := range parts {
			dst = p(dst, r)
		}
		return dst
	}, nil
}

var formatVerbFuncs = map[byte]recordFormat{
	't': func(dst []byte, r *kgo.Record) []byte { return append(dst, r.Topic...) },
	'p': func(dst []byte, r *kgo.Record) []byte { return strconv.AppendInt(dst, int64(r.Partition), 10) },
	'o': func(dst []byte, r *kgo.Record) []byte { return strconv.AppendInt(dst, r.Offset, 10) },
	'k': func(dst []byte, r *kgo.Record) []byte { return append(dst, r.Key...) },
	'v': func(dst []byte, r *kgo.Record) []byte { return append(dst, r.Value...) },
	's': func(dst []byte, r *kgo.Record) []byte { return append(dst, r.Value...) },
	'T': func(dst []byte, r *kgo.Record) []byte { return strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10) },
	'K': func(dst []byte, r *kgo.Record) []byte { return strconv.AppendInt(dst, int64(len(r.Key)), 10) },
	'S': func(dst []byte, r *kgo.Record) []byte { return strconv.AppendInt(dst, int64(len(r.Value)), 10) },
	'e': func(dst []byte, r *kgo.Record) []byte { return strconv.AppendInt(dst, int64(r.LeaderEpoch), 10) },
	'h': func(dst []byte, r *kgo.Record) []byte {
		for i, h := range r.Headers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(append(append(dst, h.Key...), '='), h.Value...)
		}
		return dst
	},
}

// jsonRecord is the --format json shape. Key and value are strings (null when the record
// has none); bytes that are not UTF-8 become U+FFFD, as encoding/json does.
type jsonRecord struct {
	Topic     string       `json:"topic"`
	Partition int32        `json:"partition"`
	Offset    int64        `json:"offset"`
	Timestamp int64        `json:"timestamp"` // milliseconds since the Unix epoch
	Key       *string      `json:"key"`
	Value     *string      `json:"value"`
	Headers   []jsonHeader `json:"headers"`
}

type jsonHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func appendJSONRecord(dst []byte, r *kgo.Record) []byte {
	jr := jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Key:       nullableString(r.Key),
		Value:     nullableString(r.Value),
		Headers:   make([]jsonHeader, 0, len(r.Headers)),
	}
	for _, h := range r.Headers {
		jr.Headers = append(jr.Headers, jsonHeader{Key: h.Key, Value: string(h.Value)})
	}
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	// Values are data, not HTML: keep <, > and & readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jr); err != nil {
		// Cannot happen for these field types; keep the stream line-oriented regardless.
		return fmt.Appendf(dst, "{\"error\":%q}\n", err.Error())
	}
	return buf.Bytes()
}

func nullableString(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
