package broker

// ApiVersions v0-4, on every listener, listing that listener's APIs. The server itself
// answers versions it cannot parse with a v0 UNSUPPORTED_VERSION response (KIP-511); here
// the request parsed, so the client gets the full list. Finalized features are not
// advertised: there are none a client needs.

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() {
	// Listed in both tables; listener.Handle answers it for the listener it came in on.
	register(kmsg.ApiVersions, 0, 4, nil)
	registerController(kmsg.ApiVersions, 0, 4, nil)
}

func (l listener) handleApiVersions(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	resp.ApiKeys = l.ApiVersions()
	return server.Done(resp)
}
