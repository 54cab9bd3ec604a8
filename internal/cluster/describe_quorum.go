package cluster

import (
	"context"
	"strconv"
	"time"

	"github.com/hashicorp/raft"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeQuorum answers Kafka's DescribeQuorum (what `kafka-metadata-quorum describe`
// shows) for the metadata log, __cluster_metadata-0: the controller, its term as leader
// epoch, how far it has applied the log (the high watermark), and each voter's and
// observer's (non-voter's) progress as its heartbeats last reported it. Any node answers;
// one that is not the controller asks it.
func (n *Node) DescribeQuorum(ctx context.Context, req *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	if n.sessions.Load() != nil {
		return n.HandleDescribeQuorum(ctx, req)
	}
	resp, err := n.channel.sendRemote(ctx, func() kmsg.Request {
		cp := *req
		cp.Topics = append([]kmsg.DescribeQuorumRequestTopic(nil), req.Topics...)
		return &cp
	})
	if err != nil {
		out := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
		out.ErrorCode = errorCode(err)
		out.ErrorMessage = kmsg.StringPtr(err.Error())
		return out
	}
	return resp.(*kmsg.DescribeQuorumResponse)
}

// HandleDescribeQuorum answers DescribeQuorum on the controller, NOT_CONTROLLER elsewhere.
func (n *Node) HandleDescribeQuorum(_ context.Context, req *kmsg.DescribeQuorumRequest) *kmsg.DescribeQuorumResponse {
	resp := req.ResponseKind().(*kmsg.DescribeQuorumResponse)
	sessions := n.sessions.Load()
	if sessions == nil {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		resp.ErrorCode = kerr.UnknownServerError.Code
		resp.ErrorMessage = kmsg.StringPtr(err.Error())
		return resp
	}
	for _, t := range req.Topics {
		rt := kmsg.NewDescribeQuorumResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewDescribeQuorumResponseTopicPartition()
			rp.Partition = p.Partition
			if t.Topic != clusterMetadataTopic || p.Partition != 0 {
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			} else {
				n.describeMetadataLog(&rp, future.Configuration(), sessions)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.Version >= 2 {
		resp.Nodes = controllerNodes(future.Configuration())
	}
	return resp
}

func (n *Node) describeMetadataLog(rp *kmsg.DescribeQuorumResponseTopicPartition, conf raft.Configuration, sessions *brokerSessions) {
	applied := int64(n.raft.AppliedIndex())
	term, _ := strconv.ParseInt(n.raft.Stats()["term"], 10, 32)
	rp.LeaderID, rp.LeaderEpoch, rp.HighWatermark = n.cfg.NodeID, int32(term), applied
	now := time.Now().UnixMilli()
	for _, s := range conf.Servers {
		id, err := strconv.ParseInt(string(s.ID), 10, 32)
		if err != nil {
			continue
		}
		r := kmsg.NewDescribeQuorumResponseTopicPartitionReplicaState()
		r.ReplicaID, r.LogEndOffset, r.LastFetchTimestamp, r.LastCaughtUpTimestamp = int32(id), -1, -1, -1
		switch session, ok := sessions.session(int32(id)); {
		case int32(id) == n.cfg.NodeID:
			r.LogEndOffset, r.LastFetchTimestamp, r.LastCaughtUpTimestamp = applied, now, now
		case ok:
			r.LogEndOffset = session.offset
			r.LastFetchTimestamp = session.lastContact.UnixMilli()
			if !session.lastCaughtUp.IsZero() {
				r.LastCaughtUpTimestamp = session.lastCaughtUp.UnixMilli()
			}
		}
		if s.Suffrage == raft.Voter {
			rp.CurrentVoters = append(rp.CurrentVoters, r)
		} else {
			rp.Observers = append(rp.Observers, r)
		}
	}
}

// controllerNodes are the voters' controller listeners.
func controllerNodes(conf raft.Configuration) []kmsg.DescribeQuorumResponseNode {
	var nodes []kmsg.DescribeQuorumResponseNode
	for _, s := range conf.Servers {
		id, err := strconv.ParseInt(string(s.ID), 10, 32)
		if err != nil || s.Suffrage != raft.Voter {
			continue
		}
		node := kmsg.NewDescribeQuorumResponseNode()
		node.NodeID = int32(id)
		if host, port, err := splitHostPort(string(s.Address)); err == nil {
			l := kmsg.NewDescribeQuorumResponseNodeListener()
			l.Name, l.Host, l.Port = controllerListenerName, host, uint16(port)
			node.Listeners = append(node.Listeners, l)
		}
		nodes = append(nodes, node)
	}
	return nodes
}
