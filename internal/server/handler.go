// Package server accepts Kafka client connections, frames and decodes requests, hands them
// to a Handler in arrival order and writes the responses back in that same order.
//
// A connection has two goroutines. The reader decodes request N+1 while response N is still
// being produced (pipelining), and calls Handler.Handle serially, so that work whose order
// matters — appending one producer's batches — happens in request order. Handle returns a
// Pending: the part that may wait (an fsync, a long-poll fetch, a rebalance). The writer
// runs the Pendings one after the other and writes their replies, so responses leave in
// request order whatever order their waits end in.
package server

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request is one decoded request.
type Request struct {
	Key           int16
	Version       int16
	CorrelationID int32
	ClientID      string
	Msg           kmsg.Request
	// Conn is the client connection the request arrived on.
	Conn *ConnInfo
}

// ConnInfo describes a client connection.
type ConnInfo struct {
	Remote net.Addr
	// Done ends when the connection ends or the client has gone; Pendings stop waiting
	// then, as nobody will read their answer.
	Done context.Context
	// Draining is closed when the server shuts down gracefully: requests already read are
	// still answered, but long polls should answer with what they have now.
	Draining <-chan struct{}
}

// Reply is a response to write. Sections, when set, are file ranges that replace
// placeholders in Msg's Records fields on the wire (see Section).
type Reply struct {
	Msg      kmsg.Response
	Sections []Section
	// CloseAfter closes the connection once the reply is written.
	CloseAfter bool
	// Release, if set, is called once the reply has been written or dropped; it frees
	// what Sections pinned.
	Release func()
}

// Pending finishes a request: it may block, and returns the reply. A nil Reply.Msg means
// no response is sent (acks=0 produce); with CloseAfter the connection is then closed,
// which is how an acks=0 producer learns that a write failed.
type Pending func() Reply

// Done wraps an already built response.
func Done(msg kmsg.Response) Pending { return func() Reply { return Reply{Msg: msg} } }

// Handler processes requests.
type Handler interface {
	// Supported reports whether the API key and version are implemented.
	Supported(key, version int16) bool
	// ApiVersions lists what Supported accepts, for the UNSUPPORTED_VERSION answer that the
	// server gives to an ApiVersions request it cannot parse.
	ApiVersions() []kmsg.ApiVersionsResponseApiKey
	// Handle starts processing req. It is called serially per connection, in request order.
	Handle(req *Request) Pending
}
