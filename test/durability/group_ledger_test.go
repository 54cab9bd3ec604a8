package durability_test

import (
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// groupLedger is the history of a consumer group run: every record each member
// processed, and every offset commit the coordinator acknowledged.
type groupLedger struct {
	mu         sync.Mutex
	committed  map[int32]int64 // per partition, the highest offset acknowledged as committed
	deliveries []groupDelivery
	processed  map[string]int // value → times processed
	// belowCommitted lists deliveries of records whose offset was already below the
	// partition's acknowledged committed offset: re-deliveries Kafka's group protocol
	// rules out.
	belowCommitted []string
}

type groupDelivery struct {
	member    string
	partition int32
	offset    int64
	value     string
}

func newGroupLedger() *groupLedger {
	return &groupLedger{committed: map[int32]int64{}, processed: map[string]int{}}
}

func (l *groupLedger) process(member string, r *kgo.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	value := string(r.Value)
	if committed, ok := l.committed[r.Partition]; ok && r.Offset < committed {
		l.belowCommitted = append(l.belowCommitted, fmt.Sprintf("%s got %s at %d:%d, committed offset %d",
			member, value, r.Partition, r.Offset, committed))
	}
	l.deliveries = append(l.deliveries, groupDelivery{member, r.Partition, r.Offset, value})
	l.processed[value]++
}

func (l *groupLedger) commitAcknowledged(partition int32, offset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if offset > l.committed[partition] {
		l.committed[partition] = offset
	}
}

func (l *groupLedger) distinctProcessed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.processed)
}

func (l *groupLedger) committedOffsets() map[int32]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int32]int64, len(l.committed))
	for p, o := range l.committed {
		out[p] = o
	}
	return out
}

// history returns copies of the deliveries and of the re-deliveries below a committed offset.
func (l *groupLedger) history() ([]groupDelivery, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]groupDelivery(nil), l.deliveries...), append([]string(nil), l.belowCommitted...)
}
