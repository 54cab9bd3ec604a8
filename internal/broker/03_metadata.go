package broker

// Metadata v0-12. A null topic list (v1+; empty in v0) asks for every topic. Unknown
// topics are created when the request allows it (v4+) and auto.create.topics.enable is
// on; creation goes through the metadata quorum like CreateTopics, so the answer already
// carries the new topic's leaders.

import (
	"context"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.Metadata, 0, 12, (*Broker).handleMetadata) }

func (b *Broker) handleMetadata(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	img := b.meta.Image()

	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	var names []string
	if all {
		for name := range img.Topics {
			names = append(names, name)
		}
		sort.Strings(names)
	}
	var unknownIDs [][16]byte
	for _, t := range req.Topics {
		switch {
		case t.Topic != nil:
			names = append(names, *t.Topic)
		default:
			if mt, ok := img.TopicsByID[t.TopicID]; ok {
				names = append(names, mt.Name)
			} else {
				unknownIDs = append(unknownIDs, t.TopicID)
			}
		}
	}
	autoCreate := (req.Version < 4 || req.AllowAutoTopicCreation) && b.cfg.Broker.AutoCreateTopicsEnable
	for _, name := range names {
		mt, ok := img.Topics[name]
		if !ok && autoCreate && !all {
			mt = b.autoCreateTopic(r.Conn.Done, name)
			ok = mt != nil
		}
		rt := kmsg.NewMetadataResponseTopic()
		rt.Topic = kmsg.StringPtr(name)
		if !ok {
			rt.ErrorCode = kerr.UnknownTopicOrPartition.Code
			if err := cluster.ValidateTopicName(name); err != nil {
				rt.ErrorCode = kerr.InvalidTopicException.Code
			}
			resp.Topics = append(resp.Topics, rt)
			continue
		}
		rt.TopicID = mt.ID
		rt.IsInternal = mt.Internal
		rt.AuthorizedOperations = authorizedOperationsUnknown
		for _, p := range mt.Partitions {
			rp := kmsg.NewMetadataResponseTopicPartition()
			rp.Partition = p.Index
			rp.Leader = p.Leader
			rp.LeaderEpoch = p.LeaderEpoch
			rp.Replicas = p.Replicas
			rp.ISR = p.ISR
			rp.OfflineReplicas = offlineReplicas(img, p.Replicas)
			if p.Leader < 0 {
				rp.ErrorCode = kerr.LeaderNotAvailable.Code
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	for _, id := range unknownIDs {
		rt := kmsg.NewMetadataResponseTopic()
		rt.TopicID = id
		rt.ErrorCode = kerr.UnknownTopicID.Code
		resp.Topics = append(resp.Topics, rt)
	}
	resp.Brokers = metadataBrokers(img)
	resp.ClusterID = kmsg.StringPtr(img.ClusterID)
	resp.ControllerID = img.ControllerID
	resp.AuthorizedOperations = authorizedOperationsUnknown
	return server.Done(resp)
}

// authorizedOperationsUnknown is Kafka's "not requested / not computed" value.
const authorizedOperationsUnknown = -2147483648

// metadataBrokers lists the brokers clients may connect to: registered and unfenced, as
// Kafka lists only live brokers.
func metadataBrokers(img *cluster.Image) []kmsg.MetadataResponseBroker {
	out := make([]kmsg.MetadataResponseBroker, 0, len(img.Brokers))
	for _, br := range img.SortedBrokers() {
		if br.Fenced {
			continue
		}
		mb := kmsg.NewMetadataResponseBroker()
		mb.NodeID, mb.Host, mb.Port = br.ID, br.Host, br.Port
		if br.Rack != "" {
			mb.Rack = kmsg.StringPtr(br.Rack)
		}
		out = append(out, mb)
	}
	return out
}

// offlineReplicas are the replicas on brokers that are fenced: registered but not
// serving, so their copies cannot be read or written now.
func offlineReplicas(img *cluster.Image, replicas []int32) []int32 {
	offline := []int32{}
	for _, r := range replicas {
		if br, ok := img.Brokers[r]; !ok || br.Fenced {
			offline = append(offline, r)
		}
	}
	return offline
}

// autoCreateTopic creates name with the broker's defaults; nil if it cannot be created
// (an invalid name, say), which the caller reports as unknown.
func (b *Broker) autoCreateTopic(ctx context.Context, name string) *cluster.Topic {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := b.meta.CreateTopic(ctx, cluster.CreateTopicRequest{
		Name: name, Partitions: -1, ReplicationFactor: -1,
	})
	if err != nil && errorCode(err) != kerr.TopicAlreadyExists.Code {
		b.log.Debug("auto topic creation failed", "topic", name, "err", err)
		return nil
	}
	return b.meta.Image().Topics[name]
}
