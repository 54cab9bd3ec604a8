package broker

// ApiVersions v0-4. The server itself answers versions it cannot parse with a v0
// UNSUPPORTED_VERSION response (KIP-511); here the request parsed, so the client gets the
// full list. Finalized features are not advertised: there are none a client needs.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.ApiVersions, 0, 4, (*Broker).handleApiVersions) }

func (b *Broker) handleApiVersions(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = b.ApiVersions()
	return server.Done(resp)
}
