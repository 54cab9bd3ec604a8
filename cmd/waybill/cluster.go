package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/broker"
)

func newClusterCmd(cfg *clientConfig) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Inspect the cluster (the metadata quorum, the brokers, partitions at risk) and move partition leadership",
		Example: `  waybill cluster status
  waybill cluster status --brokers 127.0.0.1:9192
  waybill cluster elect-leaders --all`,
		Args: cobra.ArbitraryArgs,
		RunE: runSubcommandOrHelp,
	}
	cmd.AddCommand(newClusterStatusCmd(cfg), newClusterElectLeadersCmd(cfg))
	return cmd
}

func newClusterStatusCmd(cfg *clientConfig) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the metadata quorum, the brokers and the partitions at risk",
		Long: `Show, from any broker of the cluster:

  the metadata quorum   the controller (the Raft leader) and its leader epoch, how far
                        it has applied the metadata log, and for every voter and
                        observer (a broker that follows the log without voting) how far
                        its last heartbeat said it had got (LAG, in log entries) and when
                        it was last heard from and last caught up, as
                        kafka-metadata-quorum describe --replication shows it
  the brokers           id, address, rack, broker epoch (it grows at every
                        registration) and whether the controller has fenced it (a
                        fenced broker missed its heartbeats and leads nothing)
  partitions at risk    under-replicated (fewer in sync than replicas), under min ISR
                        (acks=all is refused) and offline (no leader)`,
		Example: `  waybill cluster status`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cfg.runClients(cmd, func(ctx context.Context, cl *kgo.Client, adm *kadm.Client) error {
				return clusterStatus(ctx, cl, adm, cmd.OutOrStdout())
			})
		},
	}
}

// clusterStatus gathers everything before printing, so that a failing request prints
// nothing half-finished.
func clusterStatus(ctx context.Context, cl *kgo.Client, adm *kadm.Client, w io.Writer) error {
	describeCluster := kmsg.NewPtrDescribeClusterRequest()
	describeCluster.IncludeFencedBrokers = true
	dc, err := describeCluster.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(dc.ErrorCode); err != nil {
		return err
	}
	quorum := kmsg.NewPtrDescribeQuorumRequest()
	qt := kmsg.NewDescribeQuorumRequestTopic()
	qt.Topic = "__cluster_metadata"
	qt.Partitions = []kmsg.DescribeQuorumRequestTopicPartition{kmsg.NewDescribeQuorumRequestTopicPartition()}
	quorum.Topics = append(quorum.Topics, qt)
	dq, err := quorum.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(dq.ErrorCode); err != nil {
		return err
	}
	md, err := adm.Metadata(ctx)
	if err != nil {
		return err
	}
	minISR, err := minInsyncReplicas(ctx, adm, md)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "CLUSTER ID  %s\nCONTROLLER  %d\n\n", dc.ClusterID, dc.ControllerID)
	if err := printQuorum(w, dq); err != nil {
		return err
	}
	fmt.Fprintln(w)
	brokers := newTable(w, "BROKER", "ADDRESS", "RACK", "EPOCH", "STATUS")
	for _, b := range dc.Brokers {
		rack, epoch, status := "-", "-", "unfenced"
		if b.Rack != nil {
			rack = *b.Rack
		}
		if e := broker.BrokerEpoch(b); e >= 0 {
			epoch = strconv.FormatInt(e, 10)
		}
		if b.IsFenced {
			status = "fenced"
		}
		brokers.row(b.NodeID, b.Host+":"+strconv.Itoa(int(b.Port)), rack, epoch, status)
	}
	if err := brokers.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return printPartitionsAtRisk(w, md, minISR)
}

func printQuorum(w io.Writer, dq *kmsg.DescribeQuorumResponse) error {
	if len(dq.Topics) != 1 || len(dq.Topics[0].Partitions) != 1 {
		return fmt.Errorf("the broker described no metadata log")
	}
	p := dq.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		return err
	}
	fmt.Fprintf(w, "METADATA QUORUM  leader %d, leader epoch %d, high watermark %d\n", p.LeaderID, p.LeaderEpoch, p.HighWatermark)
	t := newTable(w, "NODE", "ROLE", "LOG-END", "LAG", "LAST-HEARD", "LAST-CAUGHT-UP")
	now := time.Now().UnixMilli()
	row := func(r kmsg.DescribeQuorumResponseTopicPartitionReplicaState, role string) {
		if r.ReplicaID == p.LeaderID {
			role = "leader"
		}
		lag := "-"
		if r.LogEndOffset >= 0 {
			lag = strconv.FormatInt(max(p.HighWatermark-r.LogEndOffset, 0), 10)
		}
		t.row(r.ReplicaID, role, r.LogEndOffset, lag, ago(now, r.LastFetchTimestamp), ago(now, r.LastCaughtUpTimestamp))
	}
	for _, r := range sortedReplicas(p.CurrentVoters) {
		row(r, "voter")
	}
	for _, r := range sortedReplicas(p.Observers) {
		row(r, "observer")
	}
	return t.flush()
}

func sortedReplicas(rs []kmsg.DescribeQuorumResponseTopicPartitionReplicaState) []kmsg.DescribeQuorumResponseTopicPartitionReplicaState {
	sort.Slice(rs, func(i, j int) bool { return rs[i].ReplicaID < rs[j].ReplicaID })
	return rs
}

// ago renders a timestamp in milliseconds as a time before now, "-" when unknown.
func ago(now, ms int64) string {
	if ms < 0 {
		return "-"
	}
	return (time.Duration(max(now-ms, 0)) * time.Millisecond).Round(100*time.Millisecond).String() + " ago"
}

// minInsyncReplicas is each topic's min.insync.replicas.
func minInsyncReplicas(ctx context.Context, adm *kadm.Client, md kadm.Metadata) (map[string]int, error) {
	out := map[string]int{}
	names := md.Topics.Names()
	if len(names) == 0 {
		return out, nil
	}
	configs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		return nil, err
	}
	for _, rc := range configs {
		out[rc.Name] = 1
		for _, c := range rc.Configs {
			if c.Key == "min.insync.replicas" && c.Value != nil {
				if n, err := strconv.Atoi(*c.Value); err == nil {
					out[rc.Name] = n
				}
			}
		}
	}
	return out, nil
}

// printPartitionsAtRisk counts and names the partitions whose data or writes are at risk.
func printPartitionsAtRisk(w io.Writer, md kadm.Metadata, minISR map[string]int) error {
	var under, belowMin, offline []string
	for _, td := range md.Topics.Sorted() {
		for _, pd := range td.Partitions.Sorted() {
			name := fmt.Sprintf("%s-%d", td.Topic, pd.Partition)
			if pd.Leader < 0 {
				offline = append(offline, name)
			}
			if len(pd.ISR) < len(pd.Replicas) {
				under = append(under, name)
			}
			if len(pd.ISR) < minISR[td.Topic] {
				belowMin = append(belowMin, name)
			}
		}
	}
	t := newTable(w, "PARTITIONS", "COUNT", "WHICH")
	for _, g := range []struct {
		what  string
		names []string
	}{{"under-replicated", under}, {"under min ISR", belowMin}, {"offline", offline}} {
		t.row(g.what, len(g.names), listSome(g.names, 10))
	}
	return t.flush()
}

// listSome joins up to n names and says how many more there are.
func listSome(names []string, n int) string {
	switch {
	case len(names) == 0:
		return "-"
	case len(names) <= n:
		return strings.Join(names, ",")
	}
	return strings.Join(names[:n], ",") + fmt.Sprintf(" (+%d more)", len(names)-n)
}
