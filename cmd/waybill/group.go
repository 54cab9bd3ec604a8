package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newGroupCmd(cfg *clientConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Args:  cobra.ArbitraryArgs,
		RunE:  runSubcommandOrHelp,
		Short: "List, describe, reposition and delete consumer groups",
		Example: `  waybill group list
  waybill group describe audit
  waybill group seek audit --to start --topics orders
  waybill group delete audit`,
	}
	cmd.AddCommand(
		newGroupListCmd(cfg),
		newGroupDescribeCmd(cfg),
		newGroupSeekCmd(cfg),
		newGroupDeleteCmd(cfg),
	)
	return cmd
}

func newGroupListCmd(cfg *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List consumer groups with their state",
		Example: `  waybill group list`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				groups, err := adm.ListGroups(ctx)
				if err != nil {
					return err
				}
				t := newTable(cmd.OutOrStdout(), "GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR")
				for _, g := range groups.Sorted() {
					t.row(g.Group, orDash(g.State), orDash(g.ProtocolType), g.Coordinator)
				}
				return t.flush()
			})
		},
	}
}

func newGroupDeleteCmd(cfg *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME...",
		Aliases: []string{"rm"},
		Short:   "Delete consumer groups and their committed offsets",
		Long:    `Delete groups and their committed offsets. Kafka refuses to delete a group that still has members (NON_EMPTY_GROUP).`,
		Example: `  waybill group delete audit
  waybill group delete audit billing`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				resps, err := adm.DeleteGroups(ctx, names...)
				if err != nil {
					return err
				}
				results := map[string]itemResult{}
				for name, r := range resps {
					results[name] = itemResult{r.Err, r.ErrMessage}
				}
				return printItemResults(cmd, cfg, "delete group", "GROUP", names, results)
			})
		},
	}
}

func newGroupSeekCmd(cfg *clientConfig) *cobra.Command {
	var (
		to     string
		topics []string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "seek NAME --to start|end|OFFSET [--topics T1,T2]",
		Short: "Move a stopped group's committed offsets",
		Long: `Commit new offsets for a group: the start or end of every partition, or one exact
offset for every partition. Only an empty group (no running consumers) can be moved,
because running members would overwrite the new offsets with their own commits.

Without --topics, the topics the group already has offsets for are moved.`,
		Example: `  waybill group seek audit --to start
  waybill group seek audit --to end --topics orders,payments
  waybill group seek audit --to 1000 --topics orders --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := parseSeekTarget(to)
			if err != nil {
				return err
			}
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				return seekGroup(ctx, cmd, adm, cfg, args[0], target, uniqueNames(topics), dryRun)
			})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "start, end, or an exact offset (required)")
	_ = cmd.MarkFlagRequired("to") // cannot fail: the flag was just defined
	cmd.Flags().StringSliceVar(&topics, "topics", nil, "topics to move, comma-separated (default: those with committed offsets)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the new offsets without committing them")
	return cmd
}

// seekTarget is where group seek moves offsets: the log start, the log end, or exact.
type seekTarget struct {
	kind  string // "start", "end" or "exact"
	exact int64
}

func parseSeekTarget(s string) (seekTarget, error) {
	switch strings.ToLower(s) {
	case "start", "beginning":
		return seekTarget{kind: "start"}, nil
	case "end":
		return seekTarget{kind: "end"}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return seekTarget{}, &cliError{msg: fmt.Sprintf("--to %q is not start, end or an offset", s), hint: "e.g. --to start, --to end, --to 1000"}
	}
	return seekTarget{kind: "exact", exact: n}, nil
}

func seekGroup(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, cfg *clientConfig, group string, target seekTarget, topics []string, dryRun bool) error {
	if err := requireEmptyGroup(ctx, adm, group); err != nil {
		return err
	}
	prior, err := adm.FetchOffsets(ctx, group)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return err
	}
	if len(topics) == 0 {
		topics = prior.Offsets().TopicsSet().Topics()
		if len(topics) == 0 {
			return &cliError{msg: fmt.Sprintf("group %s has no committed offsets to move", group), hint: "name the topics with --topics"}
		}
	}
	next, err := seekOffsets(ctx, adm, target, topics)
	if err != nil {
		return err
	}

	var committed kadm.OffsetResponses
	if !dryRun {
		if committed, err = adm.CommitOffsets(ctx, group, next); err != nil {
			return err
		}
	}
	failures := itemFailures{action: "commit"}
	t := newTable(cmd.OutOrStdout(), "TOPIC", "PARTITION", "PRIOR-OFFSET", "NEW-OFFSET", "STATUS")
	for _, o := range next.Sorted() {
		before := "-"
		if p, ok := prior.Lookup(o.Topic, o.Partition); ok && p.Err == nil && p.At >= 0 {
			before = fmt.Sprint(p.At)
		}
		status := "OK (dry run, nothing committed)"
		if !dryRun {
			r, _ := committed.Lookup(o.Topic, o.Partition)
			status = failures.record(fmt.Sprintf("%s/%d", o.Topic, o.Partition), r.Err, "")
		}
		t.row(o.Topic, o.Partition, before, o.At, status)
	}
	if err := t.flush(); err != nil {
		return err
	}
	return failures.asError(cfg)
}

// requireEmptyGroup refuses to move a group with members: they would commit their own
// positions over ours, and Kafka rejects commits from outside a live generation anyway.
// A group that does not exist yet is fine; committing creates it.
func requireEmptyGroup(ctx context.Context, adm *kadm.Client, group string) error {
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return err
	}
	g := described[group]
	if g.Err != nil && !errors.Is(g.Err, kerr.GroupIDNotFound) {
		return g.Err
	}
	if len(g.Members) > 0 || (g.State != "" && g.State != "Empty" && g.State != "Dead") {
		return &cliError{
			msg:  fmt.Sprintf("group %s is %s with %d members; seek needs an empty group (%v)", group, g.State, len(g.Members), kerr.NonEmptyGroup.Message),
			hint: "stop the group's consumers first; `waybill group describe " + group + "` shows them",
			err:  kerr.NonEmptyGroup,
		}
	}
	return nil
}

// seekOffsets computes the new offset of every partition of topics.
func seekOffsets(ctx context.Context, adm *kadm.Client, target seekTarget, topics []string) (kadm.Offsets, error) {
	list := adm.ListEndOffsets
	if target.kind == "start" || target.kind == "exact" {
		list = adm.ListStartOffsets // for "exact" this only supplies the partitions
	}
	listed, err := list(ctx, topics...)
	if err != nil {
		return nil, err
	}
	// An unknown topic comes back as partition -1 with UNKNOWN_TOPIC_OR_PARTITION.
	var listErr error
	listed.Each(func(o kadm.ListedOffset) {
		if o.Err != nil && listErr == nil {
			listErr = &cliError{msg: fmt.Sprintf("topic %s: %v", o.Topic, o.Err), hint: kafkaHint(o.Err), err: o.Err}
		}
	})
	if listErr != nil {
		return nil, listErr
	}
	next := listed.Offsets()
	if target.kind == "exact" {
		for _, ps := range next {
			for p, o := range ps {
				o.At, o.LeaderEpoch = target.exact, -1
				ps[p] = o
			}
		}
	}
	return next, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
