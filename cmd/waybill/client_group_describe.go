package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newGroupDescribeCmd(cfg *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME...",
		Short: "Show a group's state, members, committed offsets and lag",
		Long: `Show, for each group: its state and protocol; its members and the partitions
assigned to them; and for every partition it consumes or has committed to, the committed
offset, the log end offset (high watermark) and the lag between them.`,
		Example: `  waybill group describe audit
  waybill group describe audit billing`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			names := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				lags, err := adm.Lag(ctx, names...)
				if err != nil {
					return err
				}
				failures := itemFailures{action: "describe group"}
				printed := 0
				for _, name := range names {
					l := lags[name]
					err := l.Error()
					// Describing a group that never existed succeeds with state Dead on
					// older brokers; newer ones answer GROUP_ID_NOT_FOUND. Treat both alike.
					if err == nil && l.State == "Dead" && len(l.Lag) == 0 {
						err = kerr.GroupIDNotFound
					}
					if failures.record(name, err, ""); err != nil {
						continue
					}
					if printed > 0 {
						fmt.Fprintln(cmd.OutOrStdout())
					}
					printed++
					if err := printGroup(cmd.OutOrStdout(), l); err != nil {
						return err
					}
				}
				return failures.asError(cfg)
			})
		},
	}
}

func printGroup(w io.Writer, l kadm.DescribedGroupLag) error {
	summary := newTable(w)
	summary.row("GROUP", l.Group)
	summary.row("COORDINATOR", l.Coordinator.NodeID)
	summary.row("STATE", l.State)
	summary.row("PROTOCOL-TYPE", orDash(l.ProtocolType))
	summary.row("PROTOCOL", orDash(l.Protocol))
	summary.row("MEMBERS", len(l.Members))
	summary.row("TOTAL-LAG", l.Lag.Total())
	if err := summary.flush(); err != nil {
		return err
	}

	if len(l.Members) > 0 {
		fmt.Fprintln(w, "\nMEMBERS")
		members := newTable(w, "MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNED")
		for _, m := range l.Members {
			members.row(m.MemberID, m.ClientID, m.ClientHost, assignedPartitions(m))
		}
		if err := members.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nOFFSETS")
	offsets := newTable(w, "TOPIC", "PARTITION", "COMMITTED-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID", "ERROR")
	for _, pl := range l.Lag.Sorted() {
		member := "-"
		if pl.Member != nil {
			member = pl.Member.MemberID
		}
		committed := "-"
		if pl.Commit.At >= 0 {
			committed = fmt.Sprint(pl.Commit.At)
		}
		end := "-"
		if pl.End.Err == nil {
			end = fmt.Sprint(pl.End.Offset)
		}
		lag := "-"
		if pl.Lag >= 0 {
			lag = fmt.Sprint(pl.Lag)
		}
		offsets.row(pl.Topic, pl.Partition, committed, end, lag, member, kafkaErrNameOr(pl.Err, "-"))
	}
	return offsets.flush()
}

// assignedPartitions renders a consumer member's assignment as "orders[0,1] payments[2]".
func assignedPartitions(m kadm.DescribedGroupMember) string {
	c, ok := m.Assigned.AsConsumer()
	if !ok || len(c.Topics) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(c.Topics))
	for _, t := range c.Topics {
		ps := append([]int32(nil), t.Partitions...)
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		parts = append(parts, fmt.Sprintf("%s[%s]", t.Topic, int32List(ps)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
