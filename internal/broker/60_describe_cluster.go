package broker

// DescribeCluster v0-1: brokers, cluster id and controller from the metadata image.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.DescribeCluster, 0, 1, (*Broker).handleDescribeCluster) }

func (b *Broker) handleDescribeCluster(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	img := b.meta.Image()
	resp.ClusterID = img.ClusterID
	resp.ControllerID = img.ControllerID
	resp.ClusterAuthorizedOperations = authorizedOperationsUnknown
	for _, mb := range metadataBrokers(img) {
		db := kmsg.NewDescribeClusterResponseBroker()
		db.NodeID, db.Host, db.Port, db.Rack = mb.NodeID, mb.Host, mb.Port, mb.Rack
		resp.Brokers = append(resp.Brokers, db)
	}
	return server.Done(resp)
}
