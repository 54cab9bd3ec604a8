package broker

// DescribeCluster v0-2: brokers, cluster id and controller from the metadata image; the
// fenced brokers too when v2 asks for them (include_fenced_brokers). Each broker also
// carries its broker epoch in a tagged field of Waybill's own (BrokerEpochTag), which
// Kafka clients skip as an unknown tag and `waybill cluster status` shows.

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.DescribeCluster, 0, 2, (*Broker).handleDescribeCluster) }

// BrokerEpochTag is the tag of a DescribeCluster broker's epoch (8 bytes, big endian),
// far above the tags Kafka assigns.
const BrokerEpochTag uint32 = 0x5742

// BrokerEpoch reads the epoch a Waybill broker put in b, or -1.
func BrokerEpoch(b kmsg.DescribeClusterResponseBroker) int64 {
	epoch := int64(-1)
	b.UnknownTags.Each(func(tag uint32, v []byte) {
		if tag == BrokerEpochTag && len(v) == 8 {
			epoch = int64(binary.BigEndian.Uint64(v))
		}
	})
	return epoch
}

func (b *Broker) handleDescribeCluster(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if req.Version >= 1 && req.EndpointType != 1 { // KIP-919: only brokers answer here
		setError(&resp.ErrorCode, &resp.ErrorMessage, kerr.MismatchedEndpointType, "this listener describes brokers (endpoint type 1)")
		return server.Done(resp)
	}
	img := b.meta.Image()
	resp.ClusterID = img.ClusterID
	resp.ControllerID = img.ControllerID
	resp.ClusterAuthorizedOperations = authorizedOperationsUnknown
	for _, br := range img.SortedBrokers() {
		if br.Fenced && !req.IncludeFencedBrokers {
			continue
		}
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID, db.Host, db.Port, db.IsFenced = br.ID, br.Host, br.Port, br.Fenced
		db.UnknownTags.Set(BrokerEpochTag, binary.BigEndian.AppendUint64(nil, uint64(br.Epoch)))
		if br.Rack != "" {
			db.Rack = kmsg.StringPtr(br.Rack)
		}
		resp.Brokers = append(resp.Brokers, db)
	}
	return server.Done(resp)
}
