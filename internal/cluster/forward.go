package cluster

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// forwardCreateTopic asks the controller to create a topic this broker was asked for (a
// client's CreateTopics, or auto-creation), with Kafka's CreateTopics on the controller
// listener, as Kafka's brokers forward it (KIP-590). It returns once this node's image
// holds the topic, so that the caller can answer with its partitions.
func (n *Node) forwardCreateTopic(ctx context.Context, req CreateTopicRequest, configs map[string]string) (*Topic, error) {
	resp, err := n.channel.sendRemote(ctx, func() kmsg.Request { return createTopicsRequest(ctx, req, configs, n.cfg.ProposeTimeout) })
	if err != nil {
		return nil, err
	}
	created := resp.(*kmsg.CreateTopicsResponse).Topics[0]
	if err := kerr.ErrorForCode(created.ErrorCode); err != nil {
		message := err.Error()
		if created.ErrorMessage != nil {
			message = *created.ErrorMessage
		}
		return nil, errorf(err.(*kerr.Error), "%s", message)
	}
	return n.awaitTopic(ctx, created.TopicID)
}

// createTopicsRequest is Kafka's CreateTopics for one topic, timed out with ctx.
func createTopicsRequest(ctx context.Context, req CreateTopicRequest, configs map[string]string, fallback time.Duration) *kmsg.CreateTopicsRequest {
	kreq := kmsg.NewPtrCreateTopicsRequest()
	kreq.TimeoutMillis = int32(fallback / time.Millisecond)
	if deadline, ok := ctx.Deadline(); ok {
		kreq.TimeoutMillis = int32(max(time.Until(deadline), time.Millisecond) / time.Millisecond)
	}
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = req.Name, req.Partitions, req.ReplicationFactor
	for i, replicas := range req.Assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(i), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	for name, value := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = name, kmsg.StringPtr(value)
		rt.Configs = append(rt.Configs, c)
	}
	kreq.Topics = append(kreq.Topics, rt)
	return kreq
}

// awaitTopic waits until this node has applied the topic's creation.
func (n *Node) awaitTopic(ctx context.Context, id UUID) (*Topic, error) {
	for {
		if t := n.Image().TopicByID(id); t != nil {
			return t, nil
		}
		if err := sleepCtx(ctx, 5*time.Millisecond); err != nil {
			return nil, errorf(kerr.RequestTimedOut, "the controller created topic %s, but this broker has not seen it yet", id)
		}
	}
}
