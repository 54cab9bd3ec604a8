package config

import (
	"errors"
	"maps"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestReplaceTopicConfigs(t *testing.T) {
	got, err := ReplaceTopicConfigs(map[string]*string{RetentionMs: val("100"), SegmentMs: nil}, DefaultBroker())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, map[string]string{RetentionMs: "100"}) {
		t.Fatalf("got %v", got)
	}
	if _, err := ReplaceTopicConfigs(map[string]*string{RetentionMs: val("x")}, DefaultBroker()); !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("err = %v", err)
	}
}

func TestIncrementalAlterTopicConfigs(t *testing.T) {
	set, del := kmsg.IncrementalAlterConfigOpSet, kmsg.IncrementalAlterConfigOpDelete
	appendOp, subtract := kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract
	current := map[string]string{RetentionMs: "100", SegmentMs: "200"}

	cases := []struct {
		name string
		ops  []AlterOp
		want map[string]string
	}{
		{"set and delete", []AlterOp{{RetentionMs, set, val("300")}, {SegmentMs, del, nil}},
			map[string]string{RetentionMs: "300"}},
		{"delete absent", []AlterOp{{MaxMessageBytes, del, nil}}, current},
		{"append to default", []AlterOp{{CleanupPolicy, appendOp, val("compact")}},
			map[string]string{RetentionMs: "100", SegmentMs: "200", CleanupPolicy: "delete,compact"}},
		{"append present", []AlterOp{{CleanupPolicy, appendOp, val("delete")}},
			map[string]string{RetentionMs: "100", SegmentMs: "200", CleanupPolicy: "delete"}},
		{"subtract", []AlterOp{{LeaderReplicationThrottled, subtract, val("0:1")}},
			map[string]string{RetentionMs: "100", SegmentMs: "200", LeaderReplicationThrottled: ""}},
	}
	for _, c := range cases {
		got, err := IncrementalAlterTopicConfigs(current, c.ops, DefaultBroker())
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if current[RetentionMs] != "100" || len(current) != 2 {
		t.Fatalf("current was modified: %v", current)
	}

	subtracted, err := IncrementalAlterTopicConfigs(map[string]string{CleanupPolicy: "compact,delete"},
		[]AlterOp{{CleanupPolicy, subtract, val("delete")}}, DefaultBroker())
	if err != nil || subtracted[CleanupPolicy] != "compact" {
		t.Fatalf("subtract: %v %v", subtracted, err)
	}

	failures := []struct {
		name string
		ops  []AlterOp
		code *kerr.Error
	}{
		{"append to a long", []AlterOp{{RetentionMs, appendOp, val("1")}}, kerr.InvalidConfig},
		{"subtract from a string", []AlterOp{{CompressionType, subtract, val("gzip")}}, kerr.InvalidConfig},
		{"subtract everything", []AlterOp{{CleanupPolicy, subtract, val("delete")}}, kerr.InvalidConfig},
		{"unknown name", []AlterOp{{"nope", set, val("1")}}, kerr.InvalidConfig},
		{"invalid value", []AlterOp{{SegmentBytes, set, val("1")}}, kerr.InvalidConfig},
		{"null set", []AlterOp{{RetentionMs, set, nil}}, kerr.InvalidRequest},
		{"duplicate", []AlterOp{{RetentionMs, set, val("1")}, {RetentionMs, del, nil}}, kerr.InvalidRequest},
		{"unknown op", []AlterOp{{RetentionMs, 9, val("1")}}, kerr.InvalidRequest},
	}
	for _, f := range failures {
		if _, err := IncrementalAlterTopicConfigs(current, f.ops, DefaultBroker()); !errors.Is(err, f.code) {
			t.Errorf("%s: err = %v, want %v", f.name, err, f.code)
		}
	}
}
