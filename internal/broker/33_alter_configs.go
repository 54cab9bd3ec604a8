package broker

// AlterConfigs v0-2: the legacy full replace of a topic's overrides (configs not named
// return to their defaults). Broker configs are static in Waybill and are refused.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.AlterConfigs, 0, 2, (*Broker).handleAlterConfigs) }

func (b *Broker) handleAlterConfigs(r *server.Request) server.Pending {
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
			err := b.alterTopicConfigs(r.Conn.Done, res.ResourceType, res.ResourceName, req.ValidateOnly,
				func(map[string]string) (map[string]string, error) {
					return config.ReplaceTopicConfigs(entries, b.cfg.Broker)
				})
			if err != nil {
				setErr(&rr.ErrorCode, &rr.ErrorMessage, err)
			}
			resp.Resources = append(resp.Resources, rr)
		}
		return server.Reply{Msg: resp}
	}
}

// alterTopicConfigs computes a topic's new overrides from its current ones and commits
// them through the metadata quorum. It serves AlterConfigs and IncrementalAlterConfigs.
func (b *Broker) alterTopicConfigs(ctx context.Context, resourceType kmsg.ConfigResourceType, name string,
	validateOnly bool, next func(current map[string]string) (map[string]string, error)) error {
	if resourceType != kmsg.ConfigResourceTypeTopic {
		return errStaticBrokerConfigs
	}
	mt, ok := b.meta.Image().Topics[name]
	if !ok {
		return errUnknownTopic(name)
	}
	overrides, err := next(mt.Configs)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, requestTimeout(0))
	defer cancel()
	return b.meta.AlterTopicConfigs(ctx, name, overrides, validateOnly)
}
