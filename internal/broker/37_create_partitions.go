package broker

// CreatePartitions v0-3: grows a topic to a new total through the metadata quorum, by
// the controller (a broker that is not the controller forwards the request).
// Explicit assignments are accepted only when they name this cluster's brokers.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

// Also on the controller listener, where brokers forward what they are asked for.
func init() { registerAdmin(kmsg.CreatePartitions, 0, 3, (*Broker).handleCreatePartitions) }

func (b *Broker) handleCreatePartitions(r *server.Request, admin topicAdmin) server.Pending {
	req := r.Msg.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	return func() server.Reply {
		ctx, cancel := context.WithTimeout(r.Conn.Done, requestTimeout(req.TimeoutMillis))
		defer cancel()
		for _, t := range req.Topics {
			rt := kmsg.NewCreatePartitionsResponseTopic()
			rt.Topic = t.Topic
			if err := admin.CreatePartitions(ctx, t.Topic, t.Count, req.ValidateOnly); err != nil {
				setErr(&rt.ErrorCode, &rt.ErrorMessage, err)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return server.Reply{Msg: resp}
	}
}
