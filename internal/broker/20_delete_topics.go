package broker

// DeleteTopics v1-6 (v6 names topics by name or id). The controller commits the
// deletion in the metadata quorum (a broker that is not the controller forwards it); the
// replicas and their data go as every node applies it.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

// Also on the controller listener, where brokers forward the deletions they are asked
// for (by id).
func init() { registerAdmin(kmsg.DeleteTopics, 1, 6, (*Broker).handleDeleteTopics) }

func (b *Broker) handleDeleteTopics(r *server.Request, admin topicAdmin) server.Pending {
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
			if mt, ok := admin.Image().Topics[name]; ok {
				rt.TopicID = mt.ID
			}
			if err := admin.DeleteTopic(ctx, name); err != nil {
				setErr(&rt.ErrorCode, &rt.ErrorMessage, err)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		for _, id := range ids {
			rt := kmsg.NewDeleteTopicsResponseTopic()
			rt.TopicID = id
			if mt, ok := admin.Image().TopicsByID[id]; ok {
				rt.Topic = kmsg.StringPtr(mt.Name)
			}
			if err := admin.DeleteTopicByID(ctx, id); err != nil {
				setErr(&rt.ErrorCode, &rt.ErrorMessage, err)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return server.Reply{Msg: resp}
	}
}
