package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// txnAbortSpec is the transaction `txn abort` ends: the partition, and the producer whose
// open transaction it is. Unset producer fields (-1) are looked up with DescribeProducers.
type txnAbortSpec struct {
	topic            string
	partition        int32
	producerID       int64
	producerEpoch    int16
	coordinatorEpoch int32
	startOffset      int64 // -1 when not looked up
}

func newTxnAbortCmd(cfg *clientConfig) *cobra.Command {
	spec := txnAbortSpec{partition: -1, producerID: -1, producerEpoch: -1, coordinatorEpoch: -1, startOffset: -1}
	cmd := &cobra.Command{
		Use:   "abort --topic T --partition P [--producer-id N --producer-epoch E --coordinator-epoch C]",
		Short: "Abort a hanging transaction on one partition",
		Long: `Write an abort marker to one partition for a producer's open transaction, as
KIP-664's admin abort does: the marker goes straight to the partition leader, not through
the transaction coordinator, so use it only for a hanging transaction (see
` + "`waybill txn find-hanging`" + `), never for one a live producer may still commit.

Without --producer-id, the partition's open transaction is looked up with
DescribeProducers; there must be exactly one. Any of the producer epoch and coordinator
epoch not given are taken from the same lookup.`,
		Example: `  waybill txn abort --topic orders --partition 0
  waybill txn abort --topic orders --partition 0 --producer-id 4001
  waybill txn abort --topic orders --partition 0 --producer-id 4001 --producer-epoch 3 --coordinator-epoch 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := spec.validate(); err != nil {
				return err
			}
			return cfg.runAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				if err := requireTopicPartition(ctx, adm, spec.topic, spec.partition); err != nil {
					return err
				}
				if err := spec.complete(ctx, adm); err != nil {
					return err
				}
				return abortTxn(ctx, cmd, cfg, adm, spec)
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&spec.topic, "topic", "", "topic of the partition (required)")
	fs.Int32Var(&spec.partition, "partition", -1, "partition holding the open transaction (required)")
	fs.Int64Var(&spec.producerID, "producer-id", -1, "producer whose transaction to abort (default: the partition's only open transaction)")
	fs.Int16Var(&spec.producerEpoch, "producer-epoch", -1, "the producer's epoch (default: as DescribeProducers reports)")
	fs.Int32Var(&spec.coordinatorEpoch, "coordinator-epoch", -1, "coordinator epoch for fencing (default: as DescribeProducers reports)")
	_ = cmd.MarkFlagRequired("topic")     // cannot fail: the flag was just defined
	_ = cmd.MarkFlagRequired("partition") // likewise
	return cmd
}

func (s *txnAbortSpec) validate() error {
	switch {
	case s.topic == "":
		return &cliError{msg: "--topic is empty", hint: "name the topic of the hanging transaction"}
	case s.partition < 0:
		return &cliError{msg: fmt.Sprintf("--partition %d is not a partition", s.partition), hint: "partitions are numbered from 0"}
	case s.producerID < 0 && (s.producerEpoch >= 0 || s.coordinatorEpoch >= 0):
		return &cliError{msg: "--producer-epoch and --coordinator-epoch need --producer-id",
			hint: "`waybill txn find-hanging` prints all three; or pass none to look them up"}
	}
	return nil
}

// complete fills the producer fields not given from the partition's open transactions.
func (s *txnAbortSpec) complete(ctx context.Context, adm *kadm.Client) error {
	if s.producerID >= 0 && s.producerEpoch >= 0 && s.coordinatorEpoch >= 0 {
		return nil // all given: KIP-664's explicit form, written as is
	}
	open, err := openTxnsOn(ctx, adm, s.topic, s.partition)
	if err != nil {
		return err
	}
	where := fmt.Sprintf("%s/%d", s.topic, s.partition)
	var match []kadm.DescribedProducer
	for _, p := range open {
		if s.producerID < 0 || p.ProducerID == s.producerID {
			match = append(match, p)
		}
	}
	switch {
	case len(match) == 0 && s.producerID >= 0:
		return &cliError{msg: fmt.Sprintf("producer %d has no open transaction on %s", s.producerID, where),
			hint: "`waybill txn find-hanging --topic " + s.topic + "` lists the open transactions; or give --producer-epoch and --coordinator-epoch to write the marker anyway"}
	case len(match) == 0:
		return &cliError{msg: fmt.Sprintf("no open transaction on %s", where), hint: "nothing to abort"}
	case len(match) > 1:
		ids := make([]string, len(match))
		for i, p := range match {
			ids[i] = fmt.Sprintf("%d (from offset %d)", p.ProducerID, p.CurrentTxnStartOffset)
		}
		return &cliError{msg: fmt.Sprintf("%s has %d open transactions, of producers %s", where, len(match), strings.Join(ids, ", ")),
			hint: "choose one with --producer-id; `waybill txn find-hanging` shows which are hanging"}
	}
	p := match[0]
	s.producerID, s.startOffset = p.ProducerID, p.CurrentTxnStartOffset
	if s.producerEpoch < 0 {
		s.producerEpoch = p.ProducerEpoch
	}
	if s.coordinatorEpoch < 0 {
		// -1 means no marker was written for the producer yet: any epoch is accepted.
		s.coordinatorEpoch = max(p.CoordinatorEpoch, 0)
	}
	return nil
}

// openTxnsOn are the producers with an open transaction on one partition.
func openTxnsOn(ctx context.Context, adm *kadm.Client, topic string, partition int32) ([]kadm.DescribedProducer, error) {
	var set kadm.TopicsSet
	set.Add(topic, partition)
	described, err := adm.DescribeProducers(ctx, set)
	if err != nil {
		return nil, err
	}
	dp, ok := described[topic].Partitions[partition]
	if !ok {
		return nil, fmt.Errorf("DescribeProducers did not answer for %s/%d", topic, partition)
	}
	if dp.Err != nil {
		return nil, &cliError{msg: fmt.Sprintf("describing producers of %s/%d: %s", topic, partition, errText(dp.Err, dp.ErrMessage)),
			hint: kafkaHint(dp.Err), err: dp.Err}
	}
	var open []kadm.DescribedProducer
	for _, p := range dp.ActiveProducers.Sorted() {
		if p.CurrentTxnStartOffset >= 0 {
			open = append(open, p)
		}
	}
	return open, nil
}

// abortTxn writes the abort marker to the partition leader and prints the outcome.
func abortTxn(ctx context.Context, cmd *cobra.Command, cfg *clientConfig, adm *kadm.Client, s txnAbortSpec) error {
	var set kadm.TopicsSet
	set.Add(s.topic, s.partition)
	resps, err := adm.WriteTxnMarkers(ctx, kadm.TxnMarkers{
		ProducerID:       s.producerID,
		ProducerEpoch:    s.producerEpoch,
		CoordinatorEpoch: s.coordinatorEpoch,
		Commit:           false,
		Topics:           set,
	})
	if err != nil {
		return err
	}
	r, ok := resps[s.producerID].Topics[s.topic].Partitions[s.partition]
	if !ok {
		return fmt.Errorf("WriteTxnMarkers did not answer for %s/%d", s.topic, s.partition)
	}
	failures := itemFailures{action: "abort transaction on"}
	t := newTable(cmd.OutOrStdout(), "TOPIC", "PARTITION", "PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH", "START-OFFSET", "STATUS")
	status := failures.record(fmt.Sprintf("%s/%d", s.topic, s.partition), r.Err, "")
	if r.Err == nil {
		status = "ABORTED"
	}
	t.row(s.topic, s.partition, s.producerID, s.producerEpoch, s.coordinatorEpoch, offsetOrDash(s.startOffset), status)
	if err := t.flush(); err != nil {
		return err
	}
	return failures.asError(cfg)
}

// requireTopicPartition fails clearly when topic or its partition does not exist.
func requireTopicPartition(ctx context.Context, adm *kadm.Client, topic string, partition int32) error {
	md, err := adm.Metadata(ctx, topic)
	if err != nil {
		return err
	}
	td, ok := md.Topics[topic]
	if !ok && td.Err == nil {
		td.Err = kerr.UnknownTopicOrPartition
	}
	if td.Err != nil {
		return &cliError{msg: fmt.Sprintf("topic %s: %v", topic, td.Err), hint: kafkaHint(td.Err), err: td.Err}
	}
	if _, ok := td.Partitions[partition]; !ok {
		return &cliError{
			msg:  fmt.Sprintf("topic %s has no partition %d: %v", topic, partition, kerr.UnknownTopicOrPartition),
			hint: fmt.Sprintf("%s has partitions 0 to %d", topic, len(td.Partitions)-1),
			err:  kerr.UnknownTopicOrPartition,
		}
	}
	return nil
}

func offsetOrDash(offset int64) string {
	if offset < 0 {
		return "-"
	}
	return fmt.Sprint(offset)
}
