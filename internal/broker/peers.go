package broker

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/peer"
)

// peers are this broker's clients for other brokers' Kafka listeners, one per broker, for
// the calls a broker makes on behalf of a coordinator or a partition it leads
// (WriteTxnMarkers, KIP-890's AddPartitionsToTxn verification). A client is made on first
// use and made again when the broker registers at another address, as a restarted broker
// on a fresh port does; the address always comes from the image the caller routes by.
type peers struct {
	clientID string
	dial     peer.DialFunc

	mu      sync.Mutex
	clients map[int32]*peer.Client
	closed  bool
}

func newPeers(nodeID int32, dial peer.DialFunc) *peers {
	if dial == nil {
		dial = peer.DialTCP
	}
	return &peers{clientID: fmt.Sprintf("waybill-broker-%d", nodeID), dial: dial, clients: map[int32]*peer.Client{}}
}

// client returns the client for broker id at its address in img. An error wraps
// BROKER_NOT_AVAILABLE: the broker is not registered, or this broker is shutting down.
func (ps *peers) client(img *cluster.Image, id int32) (*peer.Client, error) {
	br, ok := img.Brokers[id]
	if !ok {
		return nil, fmt.Errorf("%w: broker %d is not registered", kerr.BrokerNotAvailable, id)
	}
	addr := net.JoinHostPort(br.Host, strconv.Itoa(int(br.Port)))
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return nil, fmt.Errorf("%w: this broker is shutting down", kerr.BrokerNotAvailable)
	}
	cl := ps.clients[id]
	if cl != nil && cl.Addr() == addr {
		return cl, nil
	}
	if cl != nil {
		cl.Close() // its requests in flight finish on their own connections
	}
	cl = peer.New(addr, ps.clientID, ps.dial)
	ps.clients[id] = cl
	return cl, nil
}

// close closes every client; later calls to client fail.
func (ps *peers) close() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.closed = true
	for id, cl := range ps.clients {
		cl.Close()
		delete(ps.clients, id)
	}
}
