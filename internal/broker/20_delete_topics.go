package broker

// DeleteTopics v1-6 (v6 names topics by name or id). Deletion is committed in the
// metadata quorum; the replicas and their data go as the change is applied.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.DeleteTopics, 1, 6, (*Broker).handleDeleteTopics) }

func (b *Broker) handleDeleteTopics(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	return func() server.Reply {
		ctx, cancel := context.WithTimeout(r.Conn.Done, requestTimeout(req.TimeoutMillis))
		defer cancel()
		names := req.TopicNames
		var ids [][16]byte
		for _, t := range req.Topics {
			if t.Topic != nil {
				names = append(names, *t.Topic)
			} else {
				ids = append(ids, t.TopicID)
			}
		}
		for _, name := range names {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			rt.Topic = kmsg.StringPtr(name)
			if mt, ok := b.meta.Image().Topics[name]; ok {
				rt.TopicID = mt.ID
			}
			if err := b.meta.DeleteTopic(ctx, name); err != nil {
				setErr(&rt.ErrorCode, &rt.ErrorMessage, err)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		for _, id := range ids {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			rt.TopicID = id
			mt, ok := b.meta.Image().TopicsByID[id]
			if !ok {
				rt.ErrorCode = kerr.UnknownTopicID.Code
			} else {
				rt.Topic = kmsg.StringPtr(mt.Name)
				if err := b.meta.DeleteTopic(ctx, mt.Name); err != nil {
					setErr(&rt.ErrorCode, &rt.ErrorMessage, err)
				}
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return server.Reply{Msg: resp}
	}
}
