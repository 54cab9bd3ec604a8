package broker

// OffsetCommit v2-9: stored in __consumer_offsets and acknowledged once durable. Partitions
// of topics or partitions that do not exist are answered UNKNOWN_TOPIC_OR_PARTITION here
// and never stored (commit_partitions.go).

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.OffsetCommit, 2, 9, (*Broker).handleOffsetCommit) }

func (b *Broker) handleOffsetCommit(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.OffsetCommitRequest)
	// Runs in the Pending: the commit waits for durability, and the connection's later
	// responses must not overtake it.
	return func() server.Reply {
		known := *req
		var missing []missingTopic
		known.Topics, missing = splitCommit(b.meta.Image(), req.Topics,
			func(t *kmsg.OffsetCommitRequestTopic) (string, *[]kmsg.OffsetCommitRequestTopicPartition) {
				return t.Topic, &t.Partitions
			},
			func(p *kmsg.OffsetCommitRequestTopicPartition) int32 { return p.Partition })
		resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
		if len(known.Topics) > 0 {
			resp = b.groups.OffsetCommit(r.Conn.Done, &known)
		}
		resp.Topics = answerMissing(resp.Topics, missing,
			func(t *kmsg.OffsetCommitResponseTopic) (string, *[]kmsg.OffsetCommitResponseTopicPartition) {
				return t.Topic, &t.Partitions
			},
			func(name string) kmsg.OffsetCommitResponseTopic {
				t := kmsg.NewOffsetCommitResponseTopic()
				t.Topic = name
				return t
			},
			func(index int32, code int16) kmsg.OffsetCommitResponseTopicPartition {
				p := kmsg.NewOffsetCommitResponseTopicPartition()
				p.Partition, p.ErrorCode = index, code
				return p
			})
		return server.Reply{Msg: resp}
	}
}
