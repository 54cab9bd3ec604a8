package config

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func find(t *testing.T, entries []Entry, name string) Entry {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("%s not described", name)
	return Entry{}
}

func TestDescribeTopicSourcesAndSynonyms(t *testing.T) {
	b, err := ParseBroker(map[string]string{"log.segment.bytes": "2097152"})
	if err != nil {
		t.Fatal(err)
	}
	entries := DescribeTopic(map[string]string{CleanupPolicy: "compact"}, b, DescribeOptions{Synonyms: true, Documentation: true})
	if len(entries) != len(topicSpecs.names) {
		t.Fatalf("described %d configs, want %d", len(entries), len(topicSpecs.names))
	}

	policy := find(t, entries, CleanupPolicy)
	if *policy.Value != "compact" || policy.Source != kmsg.ConfigSourceDynamicTopicConfig || policy.Type != kmsg.ConfigTypeList {
		t.Errorf("cleanup.policy = %+v", policy)
	}
	if len(policy.Synonyms) != 2 || policy.Synonyms[0].Source != kmsg.ConfigSourceDynamicTopicConfig ||
		policy.Synonyms[1].Name != "log.cleanup.policy" || policy.Synonyms[1].Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("cleanup.policy synonyms = %+v", policy.Synonyms)
	}
	if policy.Documentation == nil || *policy.Documentation == "" {
		t.Errorf("cleanup.policy has no documentation")
	}

	segment := find(t, entries, SegmentBytes)
	if *segment.Value != "2097152" || segment.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Errorf("segment.bytes = %+v", segment)
	}
	if len(segment.Synonyms) != 2 || segment.Synonyms[0].Source != kmsg.ConfigSourceStaticBrokerConfig ||
		*segment.Synonyms[1].Value != "1073741824" {
		t.Errorf("segment.bytes synonyms = %+v", segment.Synonyms)
	}

	retention := find(t, entries, RetentionMs)
	if *retention.Value != "604800000" || retention.Source != kmsg.ConfigSourceDefaultConfig {
		t.Errorf("retention.ms = %+v", retention)
	}
	if len(retention.Synonyms) != 1 || retention.Synonyms[0].Name != "log.retention.hours" || *retention.Synonyms[0].Value != "168" {
		t.Errorf("retention.ms synonyms = %+v", retention.Synonyms)
	}
}

func TestDescribeTopicByName(t *testing.T) {
	entries := DescribeTopic(nil, DefaultBroker(), DescribeOptions{Names: []string{RetentionMs, "nope"}})
	if len(entries) != 1 || entries[0].Name != RetentionMs || entries[0].Synonyms != nil || entries[0].Documentation != nil {
		t.Fatalf("entries = %+v", entries)
	}
}

func TestDescribeBroker(t *testing.T) {
	b, err := ParseBroker(map[string]string{"log.retention.minutes": "10"})
	if err != nil {
		t.Fatal(err)
	}
	entries := DescribeBroker(b, DescribeOptions{Synonyms: true})
	ms := find(t, entries, "log.retention.ms")
	if ms.Value != nil || ms.Source != kmsg.ConfigSourceDefaultConfig || !ms.ReadOnly {
		t.Errorf("log.retention.ms = %+v", ms)
	}
	if len(ms.Synonyms) != 2 || ms.Synonyms[0].Name != "log.retention.minutes" ||
		ms.Synonyms[0].Source != kmsg.ConfigSourceStaticBrokerConfig || ms.Synonyms[1].Name != "log.retention.hours" {
		t.Errorf("log.retention.ms synonyms = %+v", ms.Synonyms)
	}
	minutes := find(t, entries, "log.retention.minutes")
	if *minutes.Value != "10" || minutes.Source != kmsg.ConfigSourceStaticBrokerConfig {
		t.Errorf("log.retention.minutes = %+v", minutes)
	}
	durable := find(t, entries, DurableAcks)
	if *durable.Value != "true" || durable.Type != kmsg.ConfigTypeBoolean {
		t.Errorf("waybill.durable.acks = %+v", durable)
	}
}
