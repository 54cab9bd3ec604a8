package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func newTopicCmd(cfg *clientConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topic",
		Args:  cobra.ArbitraryArgs,
		RunE:  runSubcommandOrHelp,
		Short: "Create, list, describe, reconfigure and delete topics",
		Example: `  waybill topic create orders -p 6 -r 3
  waybill topic list
  waybill topic describe orders
  waybill topic delete orders --brokers kafka-1:9092`,
	}
	cmd.AddCommand(
		newTopicCreateCmd(cfg),
		newTopicListCmd(cfg),
		newTopicDescribeCmd(cfg),
		newTopicAlterConfigCmd(cfg),
		newTopicAddPartitionsCmd(cfg),
		newTopicDeleteCmd(cfg),
	)
	return cmd
}

func newTopicCreateCmd(cfg *clientConfig) *cobra.Command {
	var (
		partitions int32
		replicas   int16
		configs    []string
		dryRun     bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME...",
		Short: "Create topics",
		Long: `Create one or more topics with the same partition count, replication factor and configs.
Each topic is reported on its own line; the command fails if any topic was not created.`,
		Example: `  waybill topic create orders
  waybill topic create orders payments -p 12 -r 3
  waybill topic create audit -c cleanup.policy=compact -c min.insync.replicas=2
  waybill topic create orders -p 6 --dry-run   # ask the broker to validate only`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topicConfigs, err := parseConfigs("-c/--config", configs)
			if err != nil {
				return err
			}
			names := uniqueNames(args)
			return cfg.runClients(cmd, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
				create := adm.CreateTopics
				if dryRun {
					create = adm.ValidateCreateTopics
				}
				resps, err := create(ctx, partitions, replicas, topicConfigs, names...)
				if err != nil {
					return err
				}
				if !dryRun {
					awaitTopicsEverywhere(ctx, cl, names)
				}
				failures := itemFailures{action: "create topic"}
				t := newTable(cmd.OutOrStdout(), "TOPIC", "PARTITIONS", "REPLICAS", "STATUS")
				for _, name := range names {
					r := resps[name]
					status := failures.record(name, r.Err, r.ErrMessage)
					if r.Err == nil && dryRun {
						status = "OK (dry run, nothing created)"
					}
					t.row(name, countOrDash(int64(r.NumPartitions), r.Err), countOrDash(int64(r.ReplicationFactor), r.Err), status)
				}
				if err := t.flush(); err != nil {
					return err
				}
				return failures.asError(cfg)
			})
		},
	}
	cmd.Flags().Int32VarP(&partitions, "partitions", "p", -1, "partitions per topic (-1: the broker's num.partitions)")
	cmd.Flags().Int16VarP(&replicas, "replicas", "r", -1, "replicas per partition (-1: the broker's default.replication.factor)")
	// Kafka's kafka-topics.sh name for the same flag.
	cmd.Flags().Int16Var(&replicas, "replication-factor", -1, "replicas per partition (as -r)")
	_ = cmd.Flags().MarkHidden("replication-factor") // cannot fail: just registered
	cmd.Flags().StringArrayVarP(&configs, "config", "c", nil, "topic config key=value, repeatable (e.g. -c retention.ms=86400000)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "let the broker validate the request without creating anything")
	return cmd
}

func newTopicListCmd(cfg *clientConfig) *cobra.Command {
	var internal bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List topics with their partition and replica counts",
		Example: `  waybill topic list
  waybill topic list --internal   # include __consumer_offsets and friends`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				list := adm.ListTopics
				if internal {
					list = adm.ListTopicsWithInternal
				}
				topics, err := list(ctx)
				if err != nil {
					return err
				}
				headers := []string{"NAME", "PARTITIONS", "REPLICAS"}
				if internal {
					headers = append(headers, "INTERNAL")
				}
				t := newTable(cmd.OutOrStdout(), headers...)
				for _, td := range topics.Sorted() {
					cells := []any{td.Topic, len(td.Partitions), td.Partitions.NumReplicas()}
					if internal {
						cells = append(cells, td.IsInternal)
					}
					t.row(cells...)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().BoolVarP(&internal, "internal", "i", false, "include internal topics and show an INTERNAL column")
	return cmd
}

func newTopicDeleteCmd(cfg *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete topics and all their records",
		Example: `  waybill topic delete orders
  waybill topic delete orders payments`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				resps, err := adm.DeleteTopics(ctx, names...)
				if err != nil {
					return err
				}
				results := map[string]itemResult{}
				for name, r := range resps {
					results[name] = itemResult{r.Err, r.ErrMessage}
				}
				return printItemResults(cmd, cfg, "delete topic", "TOPIC", names, results)
			})
		},
	}
}

func newTopicAlterConfigCmd(cfg *clientConfig) *cobra.Command {
	var (
		set, del []string
		dryRun   bool
	)
	cmd := &cobra.Command{
		Use:   "alter-config NAME... --set KEY=VALUE --delete KEY",
		Short: "Set or remove topic configs (incrementally; other configs are left alone)",
		Example: `  waybill topic alter-config orders --set retention.ms=3600000
  waybill topic alter-config orders --set cleanup.policy=compact --delete retention.ms
  waybill topic alter-config orders payments --set min.insync.replicas=2 --dry-run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			alters, err := configAlterations(set, del)
			if err != nil {
				return err
			}
			names := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				alter := adm.AlterTopicConfigs
				if dryRun {
					alter = adm.ValidateAlterTopicConfigs
				}
				resps, err := alter(ctx, alters, names...)
				if err != nil {
					return err
				}
				byName := make(map[string]kadm.AlterConfigsResponse, len(resps))
				for _, r := range resps {
					byName[r.Name] = r
				}
				failures := itemFailures{action: "alter configs of topic"}
				t := newTable(cmd.OutOrStdout(), "TOPIC", "STATUS")
				for _, name := range names {
					r := byName[name]
					status := failures.record(name, r.Err, r.ErrMessage)
					if r.Err == nil && dryRun {
						status = "OK (dry run, nothing changed)"
					}
					t.row(name, status)
				}
				if err := t.flush(); err != nil {
					return err
				}
				return failures.asError(cfg)
			})
		},
	}
	cmd.Flags().StringArrayVar(&set, "set", nil, "config to set, key=value, repeatable")
	cmd.Flags().StringArrayVar(&del, "delete", nil, "config to remove (back to the broker default), repeatable")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "let the broker validate the change without applying it")
	return cmd
}

// configAlterations turns --set and --delete into incremental alterations, refusing a
// key that is both set and deleted since the broker would reject the request anyway.
func configAlterations(set, del []string) ([]kadm.AlterConfig, error) {
	if len(set) == 0 && len(del) == 0 {
		return nil, &cliError{msg: "nothing to change", hint: "pass --set key=value and/or --delete key"}
	}
	pairs, err := parseKeyValues("--set", set)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var alters []kadm.AlterConfig
	for _, p := range pairs {
		v := p[1]
		seen[p[0]] = true
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: p[0], Value: &v})
	}
	for _, k := range del {
		if seen[k] {
			return nil, &cliError{msg: fmt.Sprintf("config %q is both set and deleted", k)}
		}
		alters = append(alters, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
	}
	return alters, nil
}

func newTopicAddPartitionsCmd(cfg *clientConfig) *cobra.Command {
	var (
		total  int
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "add-partitions NAME... -n TOTAL",
		Short: "Grow topics to a total number of partitions",
		Long: `Grow topics to TOTAL partitions. Kafka cannot remove partitions, and records already
written stay where they are, so keyed records may map to a different partition afterwards.`,
		Example: `  waybill topic add-partitions orders -n 12
  waybill topic add-partitions orders payments -n 24 --dry-run`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if total <= 0 {
				return &cliError{msg: "-n/--num must be the new total partition count", hint: "e.g. -n 12 to grow a 6-partition topic to 12"}
			}
			names := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				update := adm.UpdatePartitions
				if dryRun {
					update = adm.ValidateUpdatePartitions
				}
				resps, err := update(ctx, total, names...)
				if err != nil {
					return err
				}
				failures := itemFailures{action: "add partitions to topic"}
				t := newTable(cmd.OutOrStdout(), "TOPIC", "PARTITIONS", "STATUS")
				for _, name := range names {
					r := resps[name]
					status := failures.record(name, r.Err, r.ErrMessage)
					if r.Err == nil && dryRun {
						status = "OK (dry run, nothing changed)"
					}
					t.row(name, countOrDash(int64(total), r.Err), status)
				}
				if err := t.flush(); err != nil {
					return err
				}
				return failures.asError(cfg)
			})
		},
	}
	cmd.Flags().IntVarP(&total, "num", "n", 0, "total partition count after the change (required)")
	_ = cmd.MarkFlagRequired("num") // cannot fail: the flag was just defined
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "let the broker validate the change without applying it")
	return cmd
}

// uniqueNames drops repeated arguments but keeps the order the user typed, so output
// rows line up with the command line.
func uniqueNames(args []string) []string {
	seen := make(map[string]bool, len(args))
	out := make([]string, 0, len(args))
	for _, a := range args {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// countOrDash prints a count, or "-" when the item failed and the count means nothing.
func countOrDash(n int64, err error) string {
	if err != nil || n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// topicSpreadWait bounds how long topic create waits for every broker to know the new
// topics.
const topicSpreadWait = 5 * time.Second

// awaitTopicsEverywhere waits, within topicSpreadWait, until every broker's metadata
// shows names with a leader for each partition. The controller answers CreateTopics once
// it has committed them; the other brokers apply the change a moment later, and a
// command run right after (describe, produce) may ask one of them. Nothing is reported
// if the wait runs out: the topics were created.
func awaitTopicsEverywhere(ctx context.Context, cl *kgo.Client, names []string) {
	ctx, cancel := context.WithTimeout(ctx, topicSpreadWait)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	for _, name := range names {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(name)
		req.Topics = append(req.Topics, rt)
	}
	known := func(resp *kmsg.MetadataResponse) bool {
		for _, t := range resp.Topics {
			if t.ErrorCode != 0 || len(t.Partitions) == 0 {
				return false
			}
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 || p.Leader < 0 {
					return false
				}
			}
		}
		return len(resp.Topics) == len(names)
	}
	for ctx.Err() == nil {
		brokers, err := req.RequestWith(ctx, cl)
		if err == nil {
			everywhere := true
			for _, b := range brokers.Brokers {
				resp, err := req.RequestWith(ctx, cl.Broker(int(b.NodeID)))
				if err != nil || !known(resp) {
					everywhere = false
					break
				}
			}
			if everywhere {
				return
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}
