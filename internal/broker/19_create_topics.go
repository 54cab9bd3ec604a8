package broker

// CreateTopics v2-7. Each topic is one command through the metadata quorum; the answer
// comes once it is committed and the replicas are open. v5+ returns the resolved
// partition count, replication factor and configs; a name given twice is refused with
// INVALID_REQUEST, as Kafka does.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

// Also on the controller listener: brokers forward the topics they are asked to
// create (a client's request, auto-creation) to the controller.
func init() { registerAdmin(kmsg.CreateTopics, 2, 7, (*Broker).handleCreateTopics) }

func (b *Broker) handleCreateTopics(r *server.Request, admin topicAdmin) server.Pending {
	req := r.Msg.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	return func() server.Reply {
		ctx, cancel := context.WithTimeout(r.Conn.Done, requestTimeout(req.TimeoutMillis))
		defer cancel()
		seen := map[string]int{}
		for _, t := range req.Topics {
			seen[t.Topic]++
		}
		for _, t := range req.Topics {
			rt := kmsg.NewCreateTopicsResponseTopic()
			rt.Topic = t.Topic
			rt.NumPartitions, rt.ReplicationFactor = -1, -1
			if seen[t.Topic] > 1 {
				setError(&rt.ErrorCode, &rt.ErrorMessage, kerr.InvalidRequest, "topic named more than once in the request")
				resp.Topics = append(resp.Topics, rt)
				continue
			}
			ct := cluster.CreateTopicRequest{
				Name:              t.Topic,
				Partitions:        t.NumPartitions,
				ReplicationFactor: t.ReplicationFactor,
				Configs:           map[string]string{},
				ValidateOnly:      req.ValidateOnly,
			}
			for _, a := range t.ReplicaAssignment {
				ct.Assignment = append(ct.Assignment, a.Replicas)
			}
			for _, c := range t.Configs {
				if c.Value != nil {
					ct.Configs[c.Name] = *c.Value
				}
			}
			mt, err := admin.CreateTopic(ctx, ct)
			if err != nil {
				setErr(&rt.ErrorCode, &rt.ErrorMessage, err)
			} else {
				rt.TopicID = mt.ID
				rt.NumPartitions = int32(len(mt.Partitions))
				rt.ReplicationFactor = int16(len(mt.Partitions[0].Replicas))
				rt.Configs = createTopicsConfigs(b.describeTopicConfigs(mt.Configs))
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return server.Reply{Msg: resp}
	}
}

func createTopicsConfigs(entries []kmsg.DescribeConfigsResponseResourceConfig) []kmsg.CreateTopicsResponseTopicConfig {
	out := make([]kmsg.CreateTopicsResponseTopicConfig, 0, len(entries))
	for _, e := range entries {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = e.Name, e.Value, e.ReadOnly, int8(e.Source), e.IsSensitive
		out = append(out, c)
	}
	return out
}

// requestTimeout turns a request's timeout_ms into a duration, with a floor so that a
// zero timeout still lets a quorum commit happen.
func requestTimeout(ms int32) time.Duration {
	return max(time.Duration(ms)*time.Millisecond, 5*time.Second)
}
