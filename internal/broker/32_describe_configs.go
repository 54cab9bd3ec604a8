package broker

// DescribeConfigs v1-4 for TOPIC and BROKER resources, with Kafka's names, sources and
// synonyms (internal/config holds the definitions). A broker resource names this node's
// id, or is empty for the cluster-wide defaults.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.DescribeConfigs, 1, 4, (*Broker).handleDescribeConfigs) }

func (b *Broker) handleDescribeConfigs(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	img := b.meta.Image()
	for _, res := range req.Resources {
		rr := kmsg.NewDescribeConfigsResponseResource()
		rr.ResourceType, rr.ResourceName = res.ResourceType, res.ResourceName
		opts := config.DescribeOptions{
			Names:         res.ConfigNames,
			Synonyms:      req.IncludeSynonyms,
			Documentation: req.IncludeDocumentation,
		}
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			mt, ok := img.Topics[res.ResourceName]
			if !ok {
				setError(&rr.ErrorCode, &rr.ErrorMessage, kerr.UnknownTopicOrPartition, "unknown topic "+res.ResourceName)
				break
			}
			rr.Configs = describeEntries(config.DescribeTopic(mt.Configs, b.cfg.Broker, opts))
		case kmsg.ConfigResourceTypeBroker:
			if res.ResourceName != "" && res.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
				setError(&rr.ErrorCode, &rr.ErrorMessage, kerr.InvalidRequest, "unknown broker "+res.ResourceName)
				break
			}
			rr.Configs = describeEntries(config.DescribeBroker(b.cfg.Broker, opts))
		default:
			setError(&rr.ErrorCode, &rr.ErrorMessage, kerr.InvalidRequest, "unsupported resource type")
		}
		resp.Resources = append(resp.Resources, rr)
	}
	return server.Done(resp)
}

// describeTopicConfigs is every config of a topic with these overrides.
func (b *Broker) describeTopicConfigs(overrides map[string]string) []kmsg.DescribeConfigsResponseResourceConfig {
	return describeEntries(config.DescribeTopic(overrides, b.cfg.Broker, config.DescribeOptions{}))
}

func describeEntries(entries []config.Entry) []kmsg.DescribeConfigsResponseResourceConfig {
	out := make([]kmsg.DescribeConfigsResponseResourceConfig, 0, len(entries))
	for _, e := range entries {
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.Source, e.Sensitive
		c.ConfigType, c.Documentation = e.Type, e.Documentation
		for _, s := range e.Synonyms {
			cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			cs.Name, cs.Value, cs.Source = s.Name, s.Value, s.Source
			c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
		}
		out = append(out, c)
	}
	return out
}
