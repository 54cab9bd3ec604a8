package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// electSpec is what `cluster elect-leaders` asks for, as kafka-leader-election.sh does.
type electSpec struct {
	election   string // preferred or unclean
	topic      string
	partitions []int32
	all        bool
}

// Kafka's ElectLeaders election types.
const (
	electionPreferred int8 = 0
	electionUnclean   int8 = 1
)

func newClusterElectLeadersCmd(cfg *clientConfig) *cobra.Command {
	var spec electSpec
	cmd := &cobra.Command{
		Use:   "elect-leaders (--all | --topic T [--partition P]...) [--type preferred|unclean]",
		Short: "Move partition leadership back to the preferred replicas, or elect an unclean leader",
		Long: `Ask the controller for leader elections, as kafka-leader-election.sh does.

  --type preferred   (the default) each partition's leadership moves to its preferred
                     replica, the first of its replicas, when that replica is in sync and
                     alive. After a rolling restart leadership piles up on the brokers that
                     stayed up; this moves it back at once (the controller also does so by
                     itself every leader.imbalance.check.interval.seconds while
                     auto.leader.rebalance.enable is true).
  --type unclean     a partition whose in-sync replicas are all down gets any live
                     replica as its leader, even out of sync and even where the topic's
                     unclean.leader.election.enable is false: the records the old
                     in-sync replicas had beyond the new leader's log are LOST. Use it
                     only when those brokers cannot come back.

Name the partitions with --topic (all its partitions, or those given with --partition,
repeatable or comma-separated), or --all for every partition of the cluster; with --all
the partitions that need no election are left out, as Kafka answers.

Each partition's result is one of: elected; not needed (the preferred replica leads
already, or for unclean the partition has a leader or an in-sync replica that can lead);
or the error, such as PREFERRED_LEADER_NOT_AVAILABLE (the preferred replica is down or
out of sync) and ELIGIBLE_LEADERS_NOT_AVAILABLE (no replica is alive). The command fails
when any partition got an error.`,
		Example: `  waybill cluster elect-leaders --all
  waybill cluster elect-leaders --topic orders
  waybill cluster elect-leaders --topic orders --partition 0 --partition 3
  waybill cluster elect-leaders --type unclean --topic orders --partition 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			election, err := spec.validate()
			if err != nil {
				return err
			}
			return cfg.runClients(cmd, func(ctx context.Context, cl *kgo.Client, _ *kadm.Client) error {
				return electLeaders(ctx, cmd, cfg, cl, spec, election)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&spec.election, "type", "preferred", "election type: preferred or unclean")
	fs.StringVar(&spec.topic, "topic", "", "topic whose partitions to elect leaders for")
	fs.Int32SliceVar(&spec.partitions, "partition", nil, "partition of --topic, repeatable or comma-separated (default: all of them)")
	fs.Lookup("partition").DefValue = "" // "(default: all of them)" says it; not "(default [])" too
	fs.BoolVar(&spec.all, "all", false, "every partition of the cluster")
	// kafka-leader-election.sh's names, so that its commands carry over.
	fs.StringVar(&spec.election, "election-type", "preferred", "alias of --type")
	fs.BoolVar(&spec.all, "all-topic-partitions", false, "alias of --all")
	_ = fs.MarkHidden("election-type") // cannot fail: the flags were just defined
	_ = fs.MarkHidden("all-topic-partitions")
	return cmd
}

func (s electSpec) validate() (int8, error) {
	var election int8
	switch strings.ToLower(s.election) {
	case "preferred":
		election = electionPreferred
	case "unclean":
		election = electionUnclean
	default:
		return 0, &cliError{msg: fmt.Sprintf("--type %q is not an election type", s.election), hint: "use preferred or unclean"}
	}
	switch {
	case s.all == (s.topic != ""):
		return 0, &cliError{msg: "name the partitions with --topic, or give --all", hint: "see `waybill cluster elect-leaders --help`"}
	case s.topic == "" && len(s.partitions) > 0:
		return 0, &cliError{msg: "--partition needs --topic"}
	}
	for _, p := range s.partitions {
		if p < 0 {
			return 0, &cliError{msg: fmt.Sprintf("--partition %d is not a partition", p), hint: "partitions are numbered from 0"}
		}
	}
	return election, nil
}

// electLeaders asks for the elections and prints each partition's result.
func electLeaders(ctx context.Context, cmd *cobra.Command, cfg *clientConfig, cl *kgo.Client, spec electSpec, election int8) error {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType = election
	req.TimeoutMillis = int32(cfg.requestTimeout.Milliseconds())
	if spec.topic != "" {
		partitions := spec.partitions
		if len(partitions) == 0 {
			md, err := checkTopicsExist(ctx, cfg, cl, []string{spec.topic}, nil)
			if err != nil {
				return err
			}
			partitions = md[spec.topic].Partitions.Numbers()
		}
		rt := kmsg.NewElectLeadersRequestTopic()
		rt.Topic, rt.Partitions = spec.topic, partitions
		req.Topics = []kmsg.ElectLeadersRequestTopic{rt}
	}
	if election == electionUnclean {
		fmt.Fprintln(cmd.ErrOrStderr(), "warning: an unclean election loses the records the old in-sync replicas had beyond the new leader's log")
	}
	// The raw request rather than kadm's, which drops the top-level error: an election of
	// every partition that failed as a whole would otherwise look like one with nothing
	// to elect. As an admin request it goes to the controller.
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return cfg.explain(fmt.Errorf("electing leaders: %w", err))
	}
	return printElections(cmd, cfg, resp, election, spec.all)
}

// printElections prints a TOPIC/PARTITION/RESULT table, sorted, and fails if any
// partition got an error other than ELECTION_NOT_NEEDED, which is not a failure: the
// leader asked for is there.
func printElections(cmd *cobra.Command, cfg *clientConfig, resp *kmsg.ElectLeadersResponse, election int8, all bool) error {
	type row struct {
		topic     string
		partition int32
		err       error
		message   string
	}
	var rows []row
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			r := row{topic: t.Topic, partition: p.Partition, err: kerr.ErrorForCode(p.ErrorCode)}
			if p.ErrorMessage != nil {
				r.message = *p.ErrorMessage
			}
			rows = append(rows, r)
		}
	}
	w := cmd.OutOrStdout()
	if len(rows) == 0 && all {
		what := "every partition is led by its preferred replica"
		if election == electionUnclean {
			what = "every partition has a leader or an in-sync replica that can lead"
		}
		fmt.Fprintf(w, "no partition needs an election: %s\n", what)
		return nil
	}
	slices.SortFunc(rows, func(a, b row) int {
		if c := strings.Compare(a.topic, b.topic); c != 0 {
			return c
		}
		return int(a.partition - b.partition)
	})
	failures := itemFailures{action: "elect leader of"}
	elected := 0
	t := newTable(w, "TOPIC", "PARTITION", "RESULT")
	for _, r := range rows {
		name := fmt.Sprintf("%s-%d", r.topic, r.partition)
		var result string
		switch {
		case errors.Is(r.err, kerr.ElectionNotNeeded):
			failures.record(name, nil, "")
			result = "not needed"
			if r.message != "" {
				result += ": " + r.message
			}
		case r.err != nil:
			result = failures.record(name, r.err, r.message)
		default:
			failures.record(name, nil, "")
			result = "elected"
			elected++
		}
		t.row(r.topic, r.partition, result)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nelected %d of %d partitions\n", elected, len(rows))
	return failures.asError(cfg)
}
