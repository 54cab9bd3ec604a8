package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// defaultMaxTxnTimeout is Kafka's transaction.max.timeout.ms: no coordinator lets a
// transaction stay open longer, so one open longer is left behind.
const defaultMaxTxnTimeout = 15 * time.Minute

func newTxnFindHangingCmd(cfg *clientConfig) *cobra.Command {
	var (
		topics     []string
		maxTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "find-hanging [--topic T...] [--max-transaction-timeout 15m]",
		Short: "Find open transactions that no coordinator will end",
		Long: `Find hanging transactions, as Kafka's kafka-transactions.sh find-hanging does: ask
each partition leader which producers have a transaction open (DescribeProducers), and
ask the transaction coordinators about those producers. A transaction is hanging when no
coordinator lists it as in progress (Ongoing, or preparing its markers) with that
partition, or when it has been open longer than --max-transaction-timeout, the brokers'
transaction.max.timeout.ms, after which its coordinator should have aborted it.

Each hanging transaction is printed with the ` + "`waybill txn abort`" + ` command that ends it.
The command exits 0 whether or not it found any.`,
		Example: `  waybill txn find-hanging
  waybill txn find-hanging --topic orders --topic payments
  waybill txn find-hanging --max-transaction-timeout 5m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if maxTimeout <= 0 {
				return &cliError{msg: fmt.Sprintf("--max-transaction-timeout %s is not positive", maxTimeout),
					hint: "use the brokers' transaction.max.timeout.ms, 15m by default"}
			}
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				return findHanging(ctx, cmd.OutOrStdout(), cfg, adm, uniqueNames(topics), maxTimeout)
			})
		},
	}
	cmd.Flags().StringSliceVar(&topics, "topic", nil, "only these topics, repeatable or comma-separated (default: every topic)")
	cmd.Flags().DurationVar(&maxTimeout, "max-transaction-timeout", defaultMaxTxnTimeout, "the brokers' transaction.max.timeout.ms")
	return cmd
}

// hangingTxn is an open transaction on a partition that find-hanging reports.
type hangingTxn struct {
	kadm.DescribedProducer
	txnID  string // "" when no coordinator knows the producer
	reason string
}

func findHanging(ctx context.Context, w io.Writer, cfg *clientConfig, adm *kadm.Client, topics []string, maxTimeout time.Duration) error {
	partitions, err := partitionsOf(ctx, adm, topics)
	if err != nil {
		return err
	}
	failures := itemFailures{action: "describe producers of"}
	open := scanOpenTxns(ctx, adm, partitions, &failures)
	owners, err := txnOwners(ctx, adm, open)
	if err != nil {
		return err
	}
	now := time.Now()
	var suspects []hangingTxn
	for _, p := range open {
		owner, known := owners[p.ProducerID]
		var ownerPtr *kadm.DescribedTransaction
		if known {
			ownerPtr = &owner
		}
		if reason := hangingReason(p, ownerPtr, now, maxTimeout); reason != "" {
			suspects = append(suspects, hangingTxn{DescribedProducer: p, txnID: owner.TxnID, reason: reason})
		}
	}
	hanging := stillOpen(ctx, adm, suspects)
	if err := printHanging(w, hanging, len(open)); err != nil {
		return err
	}
	return failures.asError(cfg)
}

// partitionsOf is every partition of topics, or of every topic when none are named; a
// named topic that does not exist is an error.
func partitionsOf(ctx context.Context, adm *kadm.Client, topics []string) (kadm.TopicsSet, error) {
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return nil, err
	}
	set := kadm.TopicsSet{}
	for _, td := range md.Topics.Sorted() {
		if td.Err != nil {
			if len(topics) == 0 {
				continue // a topic being deleted while we list
			}
			return nil, &cliError{msg: fmt.Sprintf("topic %s: %v", td.Topic, td.Err), hint: kafkaHint(td.Err), err: td.Err}
		}
		for p := range td.Partitions {
			set.Add(td.Topic, p)
		}
	}
	for _, topic := range topics {
		if _, ok := set[topic]; !ok {
			return nil, &cliError{msg: fmt.Sprintf("topic %s: %v", topic, kerr.UnknownTopicOrPartition),
				hint: kafkaHint(kerr.UnknownTopicOrPartition), err: kerr.UnknownTopicOrPartition}
		}
	}
	return set, nil
}

// scanOpenTxns asks the partition leaders for the producers with an open transaction,
// noting the partitions that could not be described.
func scanOpenTxns(ctx context.Context, adm *kadm.Client, partitions kadm.TopicsSet, failures *itemFailures) []kadm.DescribedProducer {
	if len(partitions) == 0 {
		return nil
	}
	described, err := adm.DescribeProducers(ctx, partitions)
	if err != nil {
		if se, ok := errors.AsType[*kadm.ShardErrors](err); ok {
			for _, e := range se.Errs {
				failures.record(fmt.Sprintf("the partitions led by broker %d", e.Broker.NodeID), e.Err, "")
			}
		} else {
			failures.record("the partitions", err, "")
			return nil
		}
	}
	var open []kadm.DescribedProducer
	for _, dp := range described.SortedPartitions() {
		if dp.Err != nil {
			failures.record(fmt.Sprintf("%s/%d", dp.Topic, dp.Partition), dp.Err, dp.ErrMessage)
			continue
		}
		for _, p := range dp.ActiveProducers.Sorted() {
			if p.CurrentTxnStartOffset >= 0 {
				open = append(open, p)
			}
		}
	}
	return open
}

// txnOwners finds, for the producers of open, the transactional id each currently
// serves and its coordinator's description, by producer id.
func txnOwners(ctx context.Context, adm *kadm.Client, open []kadm.DescribedProducer) (map[int64]kadm.DescribedTransaction, error) {
	owners := map[int64]kadm.DescribedTransaction{}
	var ids []int64
	for _, p := range open {
		if !slices.Contains(ids, p.ProducerID) {
			ids = append(ids, p.ProducerID)
		}
	}
	if len(ids) == 0 {
		return owners, nil
	}
	listed, err := adm.ListTransactions(ctx, ids, nil)
	if err != nil {
		return nil, fmt.Errorf("listing the transactions of the open producers: %w", err)
	}
	txnIDs := listed.TransactionalIDs()
	if len(txnIDs) == 0 {
		return owners, nil // no ids: DescribeTransactions would describe every transaction
	}
	described, err := adm.DescribeTransactions(ctx, txnIDs...)
	if err != nil {
		return nil, fmt.Errorf("describing the transactions of the open producers: %w", err)
	}
	for _, d := range described.Sorted() {
		if d.Err == nil && slices.Contains(ids, d.ProducerID) {
			owners[d.ProducerID] = d
		}
	}
	return owners, nil
}

// hangingReason says why p's open transaction is hanging, "" when it is not: owner is
// the coordinator's description of the transactional id using p's producer id, nil if
// there is none.
func hangingReason(p kadm.DescribedProducer, owner *kadm.DescribedTransaction, now time.Time, maxTimeout time.Duration) string {
	if owner == nil {
		return "no coordinator has a transaction for this producer"
	}
	switch owner.State {
	case "Ongoing", "PrepareCommit", "PrepareAbort":
	default:
		return fmt.Sprintf("its transaction is %s at the coordinator", owner.State)
	}
	if _, ok := owner.Topics[p.Topic][p.Partition]; !ok {
		return fmt.Sprintf("its %s transaction at the coordinator does not include %s/%d", owner.State, p.Topic, p.Partition)
	}
	start := owner.StartTimestamp
	if start < 0 {
		start = p.LastTimestamp
	}
	if open := now.Sub(time.UnixMilli(start)); open > maxTimeout {
		return fmt.Sprintf("open for %s, longer than the max transaction timeout %s", roughDuration(open), maxTimeout)
	}
	return ""
}

// stillOpen keeps the suspects whose transaction is still open on its partition from the
// same offset. The partitions were described before the coordinators were asked, so a
// transaction that ended in between would otherwise be reported as hanging. If the
// recheck fails, the suspects are reported as first seen.
func stillOpen(ctx context.Context, adm *kadm.Client, suspects []hangingTxn) []hangingTxn {
	if len(suspects) == 0 {
		return nil
	}
	var partitions kadm.TopicsSet
	for _, s := range suspects {
		partitions.Add(s.Topic, s.Partition)
	}
	var recheck itemFailures
	startNow := map[string]int64{}
	for _, p := range scanOpenTxns(ctx, adm, partitions, &recheck) {
		startNow[openTxnKey(p)] = p.CurrentTxnStartOffset
	}
	if len(recheck.failed) > 0 {
		return suspects
	}
	var kept []hangingTxn
	for _, s := range suspects {
		if start, ok := startNow[openTxnKey(s.DescribedProducer)]; ok && start == s.CurrentTxnStartOffset {
			kept = append(kept, s)
		}
	}
	return kept
}

func openTxnKey(p kadm.DescribedProducer) string {
	return fmt.Sprintf("%s/%d/%d", p.Topic, p.Partition, p.ProducerID)
}

func printHanging(w io.Writer, hanging []hangingTxn, checked int) error {
	if len(hanging) == 0 {
		_, err := fmt.Fprintf(w, "No hanging transactions (%d open checked).\n", checked)
		return err
	}
	now := time.Now()
	t := newTable(w, "TOPIC", "PARTITION", "PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH",
		"START-OFFSET", "IDLE-FOR", "TRANSACTIONAL-ID", "REASON")
	for _, h := range hanging {
		idle := roughDuration(now.Sub(time.UnixMilli(h.LastTimestamp)))
		t.row(h.Topic, h.Partition, h.ProducerID, h.ProducerEpoch, h.CoordinatorEpoch,
			h.CurrentTxnStartOffset, idle, orDash(h.txnID), h.reason)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nAbort them with:")
	for _, h := range hanging {
		fmt.Fprintf(w, "  waybill txn abort --topic %s --partition %d --producer-id %d --producer-epoch %d --coordinator-epoch %d\n",
			h.Topic, h.Partition, h.ProducerID, h.ProducerEpoch, max(h.CoordinatorEpoch, 0))
	}
	return nil
}

// roughDuration rounds d for people: to the second, or to the millisecond below one.
func roughDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return max(d.Truncate(time.Millisecond), 0)
	}
	return d.Truncate(time.Second)
}
