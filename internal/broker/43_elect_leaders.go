package broker

// ElectLeaders v0-2, Kafka 4.0's range: moves partition leadership through the
// controller, as kafka-leader-election.sh and `waybill cluster elect-leaders` ask for it.
// Election type 0 (v0 has no other) elects the preferred replica, the first of the
// assignment, where it is in sync and alive; type 1 (v1+), unclean, gives a partition
// whose in-sync replicas are all gone an out-of-sync replica, whatever the topic's
// unclean.leader.election.enable says: asking is the operator's consent to lose what the
// old ISR had beyond the new leader's log, and the controller logs each one at WARN.
// Null topics mean every partition; the answer then leaves out the partitions that need
// no election, as Kafka's does. A broker that is not the controller forwards the request
// and answers once its own metadata shows the new leaders. A failure of the whole
// request (an unknown election type, no controller before the timeout) is the top-level
// error from v1 and every named partition's error.

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

// Also on the controller listener, where brokers forward what they are asked for.
func init() { registerAdmin(kmsg.ElectLeaders, 0, 2, (*Broker).handleElectLeaders) }

const (
	electPreferred int8 = 0
	electUnclean   int8 = 1
)

func (b *Broker) handleElectLeaders(r *server.Request, admin topicAdmin) server.Pending {
	req := r.Msg.(*kmsg.ElectLeadersRequest)
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	return func() server.Reply {
		var partitions []cluster.TopicPartition // nil: every partition
		if req.Topics != nil {
			partitions = []cluster.TopicPartition{}
			for _, t := range req.Topics {
				for _, p := range t.Partitions {
					partitions = append(partitions, cluster.TopicPartition{Topic: t.Topic, Partition: p})
				}
			}
		}
		var results []cluster.ElectionResult
		var err error
		switch req.ElectionType {
		case electPreferred, electUnclean:
			ctx, cancel := context.WithTimeout(r.Conn.Done, requestTimeout(req.TimeoutMillis))
			results, err = admin.ElectLeaders(ctx, req.ElectionType == electUnclean, partitions)
			cancel()
		default:
			err = fmt.Errorf("%w: unknown election type %d", kerr.InvalidRequest, req.ElectionType)
		}
		if err != nil {
			resp.ErrorCode = errorCode(err)
			results = nil
			for _, tp := range partitions {
				results = append(results, cluster.ElectionResult{TopicPartition: tp, Err: err})
			}
		}
		resp.Topics = electionTopics(results)
		return server.Reply{Msg: resp}
	}
}

// electionTopics groups results by topic, topics in the order they first appear.
func electionTopics(results []cluster.ElectionResult) []kmsg.ElectLeadersResponseTopic {
	topics := []kmsg.ElectLeadersResponseTopic{}
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Topic]
		if !ok {
			i = len(topics)
			index[r.Topic] = i
			rt := kmsg.NewElectLeadersResponseTopic()
			rt.Topic = r.Topic
			topics = append(topics, rt)
		}
		rp := kmsg.NewElectLeadersResponseTopicPartition()
		rp.Partition = r.Partition
		if r.Err != nil {
			setErr(&rp.ErrorCode, &rp.ErrorMessage, r.Err)
		}
		topics[i].Partitions = append(topics[i].Partitions, rp)
	}
	return topics
}
