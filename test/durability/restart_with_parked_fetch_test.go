package durability_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestRestartIsNotHeldByADisconnectedConsumersLongPoll: a consumer's long-poll Fetch on an
// idle partition is parked in the broker; the consumer then goes away. The broker must not
// keep serving the dead connection until the fetch's max wait runs out, and a restart
// (graceful shutdown) must not wait for it either. Otherwise every restart in the
// durability tests pays the client's fetch.max.wait.ms (5 s with franz-go's defaults).
func TestRestartIsNotHeldByADisconnectedConsumersLongPoll(t *testing.T) {
	const (
		topic        = "parked-fetch"
		fetchMaxWait = 10 * time.Second
		restartBound = 2 * time.Second
	)
	broker := testbroker.Start(t)
	testbroker.CreateTopic(t, broker.Addr(), topic, 1)

	consumer := testbroker.OpenClient(t, broker.Addr())
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		// Nothing to read, so the broker parks the fetch; it ends when the client closes.
		_, _ = consumer.Request(context.Background(), idleFetch(t, broker.Addr(), topic, fetchMaxWait))
	}()
	waitUntil(t, 10*time.Second, "the broker to receive the fetch", func() bool {
		return requestsReceived(t, broker, "Fetch") >= 1
	})
	consumer.Close()
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

// idleFetch asks for partition 0 of topic from offset 0, waiting up to maxWait for a byte.
func idleFetch(t *testing.T, addr, topic string, maxWait time.Duration) *kmsg.FetchRequest {
	t.Helper()
	fetch := kmsg.NewPtrFetchRequest()
	fetch.MaxWaitMillis = int32(maxWait / time.Millisecond)
	fetch.MinBytes = 1
	fetch.MaxBytes = 1 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic, ft.TopicID = topic, topicID(t, addr, topic) // Fetch v13+ names topics by id
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.PartitionMaxBytes = 1 << 20
	ft.Partitions = append(ft.Partitions, fp)
	fetch.Topics = append(fetch.Topics, ft)
	return fetch
}

func topicID(t *testing.T, addr, topic string) [16]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	adm := kadm.NewClient(testbroker.OpenClient(t, addr))
	defer adm.Close()
	details, err := adm.ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		t.Fatalf("describing %s: %v", topic, err)
	}
	return details[topic].ID
}

// requestsReceived reads waybill_requests_total{api} from the broker's metrics registry.
func requestsReceived(t *testing.T, broker *testbroker.Broker, api string) float64 {
	t.Helper()
	families, err := broker.Registry().Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() != "waybill_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "api" && l.GetValue() == api {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
