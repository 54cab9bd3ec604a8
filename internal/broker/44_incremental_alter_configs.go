package broker

// IncrementalAlterConfigs v0-1: SET, DELETE, APPEND and SUBTRACT on a topic's overrides,
// validated as a whole before anything is committed. The controller applies them to its
// own image's overrides; a broker that is not the controller forwards them as asked, so
// the controller listener serves this API too.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/server"
)

func init() {
	registerAdmin(kmsg.IncrementalAlterConfigs, 0, 1, (*Broker).handleIncrementalAlterConfigs)
}

func (b *Broker) handleIncrementalAlterConfigs(r *server.Request, admin topicAdmin) server.Pending {
	req := r.Msg.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	return func() server.Reply {
		for _, res := range req.Resources {
			rr := kmsg.NewIncrementalAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
			ops := make([]config.AlterOp, 0, len(res.Configs))
			for _, c := range res.Configs {
				ops = append(ops, config.AlterOp{Name: c.Name, Op: c.Op, Value: c.Value})
			}
			change := cluster.IncrementalConfigs(ops)
			if err := alterTopicConfigs(r.Conn.Done, admin, res.ResourceType, res.ResourceName, change, req.ValidateOnly); err != nil {
				setErr(&rr.ErrorCode, &rr.ErrorMessage, err)
			}
			resp.Resources = append(resp.Resources, rr)
		}
		return server.Reply{Msg: resp}
	}
}
