package broker

// IncrementalAlterConfigs v0-1: SET, DELETE, APPEND and SUBTRACT on a topic's overrides,
// validated as a whole before anything is committed.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/server"
)

func init() {
	register(kmsg.IncrementalAlterConfigs, 0, 1, (*Broker).handleIncrementalAlterConfigs)
}

func (b *Broker) handleIncrementalAlterConfigs(r *server.Request) server.Pending {
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
			err := b.alterTopicConfigs(r.Conn.Done, res.ResourceType, res.ResourceName, req.ValidateOnly,
				func(current map[string]string) (map[string]string, error) {
					return config.IncrementalAlterTopicConfigs(current, ops, b.cfg.Broker)
				})
			if err != nil {
				setErr(&rr.ErrorCode, &rr.ErrorMessage, err)
			}
			resp.Resources = append(resp.Resources, rr)
		}
		return server.Reply{Msg: resp}
	}
}
