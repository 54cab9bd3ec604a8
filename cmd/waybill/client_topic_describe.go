package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newTopicDescribeCmd(cfg *clientConfig) *cobra.Command {
	var overridesOnly bool
	cmd := &cobra.Command{
		Use:     "describe NAME...",
		Aliases: []string{"info"},
		Short:   "Show a topic's summary, configs and partitions",
		Long: `Show, for each topic: a summary; every config with its value and source
(DYNAMIC_TOPIC_CONFIG is an override set on the topic, DEFAULT_CONFIG and the *_BROKER_*
sources are inherited); and every partition's replica layout and offsets: its leader
("none" when no replica can lead it), leader epoch, replicas (the preferred
leader first), ISR (the in-sync replicas), offline replicas (those on brokers that are
down or fenced, "-" for none), log start offset and high watermark.`,
		Example: `  waybill topic describe orders
  waybill topic describe orders payments --overrides-only`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				return describeTopics(ctx, adm, cmd.OutOrStdout(), names, overridesOnly, cfg)
			})
		},
	}
	cmd.Flags().BoolVar(&overridesOnly, "overrides-only", false, "show only configs set on the topic itself")
	return cmd
}

// describeTopics gathers everything first (metadata, configs, both ends of every
// partition) so that a failing request aborts before anything half-finished is printed.
func describeTopics(ctx context.Context, adm *kadm.Client, w io.Writer, names []string, overridesOnly bool, cfg *clientConfig) error {
	md, err := adm.Metadata(ctx, names...)
	if err != nil {
		return err
	}
	failures := itemFailures{action: "describe topic"}
	var found []string
	for _, name := range names {
		td, ok := md.Topics[name]
		err := td.Err
		if !ok && err == nil {
			err = kerr.UnknownTopicOrPartition
		}
		if failures.record(name, err, ""); err == nil {
			found = append(found, name)
		}
	}
	if len(found) > 0 {
		configs, err := adm.DescribeTopicConfigs(ctx, found...)
		if err != nil {
			return err
		}
		starts, err := adm.ListStartOffsets(ctx, found...)
		if err != nil {
			return err
		}
		ends, err := adm.ListEndOffsets(ctx, found...)
		if err != nil {
			return err
		}
		for i, name := range found {
			if i > 0 {
				fmt.Fprintln(w)
			}
			rc, _ := configs.On(name, nil)
			if err := printTopic(w, md.Topics[name], rc, starts, ends, overridesOnly); err != nil {
				return err
			}
		}
	}
	return failures.asError(cfg)
}

func printTopic(w io.Writer, td kadm.TopicDetail, rc kadm.ResourceConfig, starts, ends kadm.ListedOffsets, overridesOnly bool) error {
	fmt.Fprintln(w, "SUMMARY")
	summary := newTable(w)
	summary.row("NAME", td.Topic)
	if td.ID != (kadm.TopicID{}) {
		// Kafka prints ids as URL-safe base64 without padding (Uuid.toString).
		summary.row("ID", base64.RawURLEncoding.EncodeToString(td.ID[:]))
	}
	summary.row("INTERNAL", td.IsInternal)
	summary.row("PARTITIONS", len(td.Partitions))
	summary.row("REPLICAS", td.Partitions.NumReplicas())
	if err := summary.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nCONFIGS")
	if rc.Err != nil {
		fmt.Fprintln(w, errText(rc.Err, rc.ErrMessage))
	} else {
		configs := newTable(w, "KEY", "VALUE", "SOURCE")
		sort.Slice(rc.Configs, func(i, j int) bool { return rc.Configs[i].Key < rc.Configs[j].Key })
		for _, c := range rc.Configs {
			if overridesOnly && c.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
				continue
			}
			configs.row(c.Key, configValue(c), c.Source)
		}
		if err := configs.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nPARTITIONS")
	partitions := td.Partitions.Sorted()
	headers := []string{"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE-REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK"}
	withErrors := false
	for _, p := range partitions {
		withErrors = withErrors || p.Err != nil
	}
	if withErrors {
		headers = append(headers, "ERROR")
	}
	t := newTable(w, headers...)
	for _, p := range partitions {
		leader := fmt.Sprint(p.Leader)
		if p.Leader < 0 {
			leader = "none"
		}
		offline := int32List(p.OfflineReplicas)
		if offline == "" {
			offline = "-"
		}
		cells := []any{p.Partition, leader, p.LeaderEpoch, int32List(p.Replicas), int32List(p.ISR), offline,
			listedOffset(starts, p.Topic, p.Partition), listedOffset(ends, p.Topic, p.Partition)}
		if withErrors {
			cells = append(cells, kafkaErrNameOr(p.Err, "-"))
		}
		t.row(cells...)
	}
	return t.flush()
}

func configValue(c kadm.Config) string {
	switch {
	case c.Sensitive:
		return "(sensitive)"
	case c.Value == nil:
		return "(null)"
	}
	return *c.Value
}

// listedOffset prints one partition's listed offset, or the Kafka error that kept the
// broker from answering for that partition.
func listedOffset(l kadm.ListedOffsets, topic string, partition int32) string {
	o, ok := l.Lookup(topic, partition)
	switch {
	case !ok:
		return "-"
	case o.Err != nil:
		return kafkaErrNameOr(o.Err, o.Err.Error())
	}
	return fmt.Sprint(o.Offset)
}

func kafkaErrNameOr(err error, fallback string) string {
	if name := kafkaErrName(err); name != "" {
		return name
	}
	if err != nil {
		return err.Error()
	}
	return fallback
}
