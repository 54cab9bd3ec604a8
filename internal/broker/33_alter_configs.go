package broker

// AlterConfigs v0-2: the legacy full replace of a topic's overrides (configs not named
// return to their defaults). The controller makes the change; a broker that is not the
// controller forwards it, so the controller listener serves this API too. Broker
// configs are static in Waybill and are refused by whichever broker is asked.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

func init() { registerAdmin(kmsg.AlterConfigs, 0, 2, (*Broker).handleAlterConfigs) }

func (b *Broker) handleAlterConfigs(r *server.Request, admin topicAdmin) server.Pending {
	req := r.Msg.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	return func() server.Reply {
		for _, res := range req.Resources {
			rr := kmsg.NewAlterConfigsResponseResource()
			rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
			entries := make(map[string]*string, len(res.Configs))
			for _, c := range res.Configs {
				entries[c.Name] = c.Value
			}
			change := cluster.ReplaceConfigs(entries)
			if err := alterTopicConfigs(r.Conn.Done, admin, res.ResourceType, res.ResourceName, change, req.ValidateOnly); err != nil {
				setErr(&rr.ErrorCode, &rr.ErrorMessage, err)
			}
			resp.Resources = append(resp.Resources, rr)
		}
		return server.Reply{Msg: resp}
	}
}

// alterTopicConfigs has one resource's change made. It serves AlterConfigs and
// IncrementalAlterConfigs, which carry no timeout of their own.
func alterTopicConfigs(ctx context.Context, admin topicAdmin, resourceType kmsg.ConfigResourceType, name string,
	change cluster.ConfigChange, validateOnly bool) error {
	if resourceType != kmsg.ConfigResourceTypeTopic {
		return errStaticBrokerConfigs
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout(0))
	defer cancel()
	return admin.AlterTopicConfigs(ctx, name, change, validateOnly)
}
