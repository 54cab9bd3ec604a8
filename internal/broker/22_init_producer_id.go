package broker

// InitProducerId v0-5. An idempotent producer gets a new producer id with epoch 0, taken
// from a block that the metadata quorum hands out, so ids never repeat across restarts;
// as in Kafka it gets a fresh id even when it sends its old id and epoch (KIP-360). A
// transactional id goes to its transaction coordinator, which bumps epochs and fences.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/server"
)

func init() { register(kmsg.InitProducerID, 0, 5, (*Broker).handleInitProducerID) }

func (b *Broker) handleInitProducerID(r *server.Request) server.Pending {
	req := r.Msg.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		return func() server.Reply { return server.Reply{Msg: b.txns.InitProducerID(r.Conn.Done, req)} }
	}
	return func() server.Reply {
		ctx, cancel := context.WithTimeout(r.Conn.Done, 10*time.Second)
		defer cancel()
		id, err := b.producerIDs.next(ctx, b)
		if err != nil {
			resp.ErrorCode = errorCode(err)
			return server.Reply{Msg: resp}
		}
		resp.ProducerID, resp.ProducerEpoch = id, 0
		return server.Reply{Msg: resp}
	}
}

// producerIDs hands out ids from the block the quorum last allocated to this broker.
type producerIDs struct {
	mu        sync.Mutex
	next_, hi int64 // [next_, hi) is what is left of the current block
}

func (p *producerIDs) next(ctx context.Context, b *Broker) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next_ >= p.hi {
		first, count, err := b.meta.AllocateProducerIDs(ctx)
		if err != nil {
			// No block without a controller (an election, a lost quorum): as Kafka's
			// producer id manager, a retriable COORDINATOR_LOAD_IN_PROGRESS rather
			// than the controller's own errors, which mean nothing to a client.
			b.log.Warn("no producer id block from the controller", "err", err)
			return -1, fmt.Errorf("%w: no producer id block from the controller: %v", kerr.CoordinatorLoadInProgress, err)
		}
		p.next_, p.hi = first, first+int64(count)
	}
	id := p.next_
	p.next_++
	return id, nil
}
