package broker

// DescribeQuorum v0-2: the metadata quorum as `kafka-metadata-quorum describe` shows it.
// Any broker answers, asking the controller when it is not the controller itself; on the
// controller listener only the controller answers.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/server"
)

func init() {
	register(kmsg.DescribeQuorum, 0, 2, func(b *Broker, r *server.Request) server.Pending {
		req := r.Msg.(*kmsg.DescribeQuorumRequest)
		return func() server.Reply { return server.Reply{Msg: b.meta.DescribeQuorum(r.Conn.Done, req)} }
	})
	registerNodeAPI(kmsg.DescribeQuorum, 0, 2, (*cluster.Node).HandleDescribeQuorum,
		func(r *kmsg.DescribeQuorumResponse, code int16) { r.ErrorCode = code })
}
