package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func newTxnCmd(cfg *clientConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "txn",
		Aliases: []string{"transactions"},
		Args:    cobra.ArbitraryArgs,
		RunE:    runSubcommandOrHelp,
		Short:   "List, describe and repair transactions (KIP-664)",
		Long: `Inspect the transactions the coordinators track, and find and abort hanging
transactions: transactions left open on a partition that no coordinator will ever end.
A hanging transaction holds the partition's last stable offset back, so read_committed
consumers stop at it.`,
		Example: `  waybill txn list --state Ongoing
  waybill txn describe payments-tx
  waybill txn find-hanging --topic orders
  waybill txn abort --topic orders --partition 0`,
	}
	cmd.AddCommand(
		newTxnListCmd(cfg),
		newTxnDescribeCmd(cfg),
		newTxnAbortCmd(cfg),
		newTxnFindHangingCmd(cfg),
	)
	return cmd
}

// txnStates are the coordinator states Kafka names; ListTransactions silently ignores a
// filter it does not know, so --state is checked here.
var txnStates = []string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
	"CompleteAbort", "Dead", "PrepareEpochFence"}

// parseTxnStates canonicalises --state values, case-insensitively.
func parseTxnStates(values []string) ([]string, error) {
	var states []string
	for _, v := range values {
		i := slices.IndexFunc(txnStates, func(s string) bool { return strings.EqualFold(s, v) })
		if i < 0 {
			return nil, &cliError{msg: fmt.Sprintf("--state %q is not a transaction state", v),
				hint: "one of " + strings.Join(txnStates, ", ")}
		}
		if !slices.Contains(states, txnStates[i]) {
			states = append(states, txnStates[i])
		}
	}
	return states, nil
}

func newTxnListCmd(cfg *clientConfig) *cobra.Command {
	var states []string
	cmd := &cobra.Command{
		Use:     "list [--state STATE,...]",
		Aliases: []string{"ls"},
		Short:   "List transactional ids with their producer id and state",
		Example: `  waybill txn list
  waybill txn list --state Ongoing,PrepareCommit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			filter, err := parseTxnStates(states)
			if err != nil {
				return err
			}
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				listed, err := adm.ListTransactions(ctx, nil, filter)
				if err != nil {
					return err
				}
				t := newTable(cmd.OutOrStdout(), "TRANSACTIONAL-ID", "PRODUCER-ID", "STATE", "COORDINATOR")
				for _, l := range listed.Sorted() {
					t.row(l.TxnID, l.ProducerID, l.State, l.Coordinator)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().StringSliceVar(&states, "state", nil, "only transactions in these states, comma-separated ("+strings.Join(txnStates, ", ")+")")
	return cmd
}

func newTxnDescribeCmd(cfg *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "describe TRANSACTIONAL-ID...",
		Short: "Show a transactional id's state, producer, timeout and partitions",
		Long: `Show, for each transactional id: its coordinator's state, the producer id and epoch
it uses, its transaction timeout, when its current transaction started, and the
partitions the transaction wrote to (while preparing, those still without a marker).`,
		Example: `  waybill txn describe payments-tx
  waybill txn describe payments-tx audit-tx`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := uniqueNames(args)
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				described, err := adm.DescribeTransactions(ctx, ids...)
				if err != nil && len(described) == 0 {
					return err
				}
				// An id missing from a partial answer failed with the shard's error.
				var missing error = kerr.TransactionalIDNotFound
				if err != nil {
					missing = err
				}
				failures := itemFailures{action: "describe transaction"}
				printed := 0
				for _, id := range ids {
					d, ok := described[id]
					err := d.Err
					if !ok {
						err = missing
					}
					if failures.record(id, err, ""); err != nil {
						continue
					}
					if printed > 0 {
						fmt.Fprintln(cmd.OutOrStdout())
					}
					printed++
					if err := printTxn(cmd.OutOrStdout(), d, time.Now()); err != nil {
						return err
					}
				}
				return withTxnHint(failures.asError(cfg))
			})
		},
	}
}

func printTxn(w io.Writer, d kadm.DescribedTransaction, now time.Time) error {
	t := newTable(w)
	t.row("TRANSACTIONAL-ID", d.TxnID)
	t.row("COORDINATOR", d.Coordinator)
	t.row("STATE", d.State)
	t.row("PRODUCER-ID", d.ProducerID)
	t.row("PRODUCER-EPOCH", d.ProducerEpoch)
	t.row("TIMEOUT", time.Duration(d.TimeoutMillis)*time.Millisecond)
	t.row("START-TIME", txnStartTime(d.StartTimestamp, now))
	t.row("PARTITIONS", orDash(topicPartitionsText(d.Topics)))
	return t.flush()
}

// txnStartTime renders a transaction's start as a UTC time and its age, "-" for none.
func txnStartTime(ms int64, now time.Time) string {
	if ms < 0 {
		return "-"
	}
	start := time.UnixMilli(ms)
	return fmt.Sprintf("%s (%s ago)", start.UTC().Format(time.RFC3339), roughDuration(now.Sub(start)))
}

// topicPartitionsText renders a partition set as "orders[0,1] payments[2]".
func topicPartitionsText(s kadm.TopicsSet) string {
	var parts []string
	for _, t := range s.Sorted() {
		parts = append(parts, fmt.Sprintf("%s[%s]", t.Topic, int32List(t.Partitions)))
	}
	return strings.Join(parts, " ")
}

// withTxnHint adds the hint Kafka's error table lacks for an unknown transactional id.
func withTxnHint(err error) error {
	if ce, ok := errors.AsType[*cliError](err); ok && ce.hint == "" && errors.Is(err, kerr.TransactionalIDNotFound) {
		ce.hint = "check the id with `waybill txn list`"
	}
	return err
}
