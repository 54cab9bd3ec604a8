package console

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// readBrokers lists the brokers with DescribeCluster, the fenced ones included (v2), so
// that a broker whose heartbeats stopped shows as fenced rather than vanishing as it
// does from Metadata. A cluster that cannot answer falls back on Metadata's brokers.
func readBrokers(ctx context.Context, cl *kgo.Client, md kadm.Metadata, st *ClusterState, note func(string, error)) {
	req := kmsg.NewPtrDescribeClusterRequest()
	req.IncludeFencedBrokers = true
	req.EndpointType = 1 // brokers
	resp, err := req.RequestWith(ctx, cl)
	if err == nil {
		err = kerrFor(resp.ErrorCode, resp.ErrorMessage)
	}
	if err != nil {
		note("brokers (DescribeCluster)", err)
		for _, b := range md.Brokers {
			st.Brokers = append(st.Brokers, ClusterNode{ID: b.NodeID, Host: b.Host, Port: b.Port, Controller: b.NodeID == md.Controller})
		}
		return
	}
	st.ClusterID, st.Controller = resp.ClusterID, resp.ControllerID
	for _, b := range resp.Brokers {
		st.Brokers = append(st.Brokers, ClusterNode{ID: b.NodeID, Host: b.Host, Port: b.Port, Fenced: b.IsFenced,
			Controller: b.NodeID == resp.ControllerID})
	}
}

// minISRs reads each topic's min.insync.replicas; a topic whose configs cannot be read
// is left out.
func minISRs(ctx context.Context, adm *kadm.Client, names []string, note func(string, error)) map[string]int {
	out := map[string]int{}
	rcs, err := adm.DescribeTopicConfigs(ctx, names...)
	if err != nil {
		note("topic configs", err)
		return out
	}
	for _, rc := range rcs {
		if rc.Err != nil {
			continue
		}
		for _, c := range rc.Configs {
			if c.Key == "min.insync.replicas" && c.Value != nil {
				if n, err := strconv.Atoi(*c.Value); err == nil {
					out[rc.Name] = n
				}
			}
		}
	}
	return out
}

// replication sets what the page flags on a partition: no leader, replicas out of the
// ISR, and an ISR too small for acks=all writes.
func (ps *PartitionState) replication(minISR int) {
	ps.Offline = ps.Leader < 0
	ps.UnderReplicated = len(ps.ISR) < len(ps.Replicas)
	ps.UnderMinISR = minISR > 0 && len(ps.ISR) < minISR
}

// kerrFor is an answer's error code as an error, with the broker's message.
func kerrFor(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err != nil && msg != nil && *msg != "" {
		return fmt.Errorf("%w: %s", err, *msg)
	}
	return err
}
