package main

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// checkTopicsExist asks the cluster about topics (and, if given, specific partitions of
// them) before producing or consuming. Clients treat an unknown topic as something that
// may appear soon and retry quietly; a person at a terminal wants to hear about a typo.
func checkTopicsExist(ctx context.Context, cfg *clientConfig, cl *kgo.Client, topics []string, partitions []int32) (kadm.TopicDetails, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.requestTimeout)
	defer cancel()
	// Not closed: closing an admin client closes the kgo client it wraps.
	md, err := kadm.NewClient(cl).Metadata(ctx, topics...)
	if err != nil {
		return nil, cfg.explain(err)
	}
	for _, topic := range topics {
		td, ok := md.Topics[topic]
		if !ok && td.Err == nil {
			td.Err = kerr.UnknownTopicOrPartition
		}
		if td.Err != nil {
			return nil, &cliError{msg: fmt.Sprintf("topic %s: %v", topic, td.Err), hint: cfg.hint(td.Err), err: td.Err}
		}
		for _, p := range partitions {
			if _, ok := td.Partitions[p]; !ok {
				return nil, &cliError{
					msg:  fmt.Sprintf("topic %s has no partition %d: %v", topic, p, kerr.UnknownTopicOrPartition),
					hint: fmt.Sprintf("%s has partitions 0 to %d; grow it with `waybill topic add-partitions`", topic, len(td.Partitions)-1),
					err:  kerr.UnknownTopicOrPartition,
				}
			}
		}
	}
	return md.Topics, nil
}

// checkPartitionsExist is checkTopicsExist for one topic and an optional partition (-1: any).
func checkPartitionsExist(ctx context.Context, cfg *clientConfig, cl *kgo.Client, topic string, partition int32) error {
	var partitions []int32
	if partition >= 0 {
		partitions = []int32{partition}
	}
	_, err := checkTopicsExist(ctx, cfg, cl, []string{topic}, partitions)
	return err
}
