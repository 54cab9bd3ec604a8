package durability_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// TestRestartIsNotHeldByADisconnectedConsumersLongPoll: a consumer's long-poll Fetch on an
// idle partition is parked in the broker; the consumer then goes away. The broker must not
// keep serving the dead connection until the fetch's max wait runs out, and a restart
// (graceful shutdown) must not wait for it either. Every restart cycle in the durability
// tests otherwise pays the client's fetch.max.wait.ms (5 s with franz-go's defaults).
func TestRestartIsNotHeldByADisconnectedConsumersLongPoll(t *testing.T) {
	const (
		topic        = "parked-fetch"
		fetchMaxWait = 10 * time.Second
		restartBound = 2 * time.Second
	)
	broker := testbroker.Start(t)
	createTopic(t, broker.Addr(), topic, 1)
	proxy, err := faults.NewProxy(broker.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	fetchForwarded := make(chan struct{})
	var once sync.Once
	proxy.SetRule(func(dir faults.Direction, apiKey int16) faults.Action {
		if dir == faults.ToBroker && apiKey == int16(kmsg.Fetch) {
			once.Do(func() { close(fetchForwarded) })
		}
		return faults.Pass
	})

	consumer := openClient(t, proxy.Addr())
	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxWaitMillis = int32(fetchMaxWait / time.Millisecond)
	fetch.MinBytes = 1
	fetch.MaxBytes = 1 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		_, _ = consumer.Request(context.Background(), fetch) // ends when the client closes
	}()
	waitClosed(t, fetchForwarded, 10*time.Second, "the fetch to reach the broker")
	consumer.Close()
	proxy.Close() // both sides of the proxied connection are gone
	waitClosed(t, answered, 10*time.Second, "the closed client to give up its request")

	start := time.Now()
	broker.Restart()
	took := time.Since(start)
	t.Logf("restart took %v with a parked fetch (max wait %v) from a disconnected consumer", took, fetchMaxWait)
	if took > restartBound {
		t.Errorf("restart took %v: the graceful shutdown waited for the long-poll fetch of a consumer that had disconnected (max wait %v); want under %v",
			took, fetchMaxWait, restartBound)
	}
}
