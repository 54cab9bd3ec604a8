package lab

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// Two cells on one broker, each on a network of its own, as RunMatrix runs them side by
// side: one cell's rule, pause and cut leave the other's connections alone.
func TestCellNetworksAreIsolated(t *testing.T) {
	t.Run("node", func(t *testing.T) {
		target, err := NewNodeTarget(t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		checkIsolation(t, target)
	})
	t.Run("cluster", func(t *testing.T) {
		broker := testbroker.Start(t)
		target, err := NewClusterTarget(broker.Addr(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		checkIsolation(t, target)
	})
}

func checkIsolation(t *testing.T, target Target) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	faulty, err := target.ClientNetwork()
	if err != nil {
		t.Fatal(err)
	}
	defer faulty.Close()
	calm, err := target.ClientNetwork()
	if err != nil {
		t.Fatal(err)
	}
	defer calm.Close()
	const topic = "isolated"
	if err := createTopic(ctx, target.Bootstrap(), topic, 1, nil, nil); err != nil {
		t.Fatal(err)
	}

	dropped := make(chan struct{})
	var once sync.Once
	faulty.Observe(func(e faults.Event) {
		if e.Action == faults.Drop {
			once.Do(func() { close(dropped) })
		}
	})
	var calmFaults, calmProduces atomic.Int64
	calm.Observe(func(e faults.Event) {
		if e.Action != faults.Pass {
			calmFaults.Add(1)
		}
		if e.Dir == faults.ToBroker && e.APIKey == int16(kmsg.Produce) {
			calmProduces.Add(1)
		}
	})
	faulty.SetRule(faults.DropResponses(int16(kmsg.Produce), faults.Always()))

	// The faulty cell's producer keeps losing its acks and retrying while the calm
	// cell's producer works.
	faultyCtx, stopFaulty := context.WithCancel(ctx)
	defer stopFaulty()
	zombie, err := kgo.NewClient(kgo.SeedBrokers(faulty.Bootstrap()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer zombie.Close()
	zombie.Produce(faultyCtx, &kgo.Record{Value: []byte("faulty")}, nil)
	select {
	case <-dropped:
	case <-ctx.Done():
		t.Fatal("the faulty network dropped no Produce response")
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(calm.Bootstrap()), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	produce := func(i int) {
		t.Helper()
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: fmt.Appendf(nil, "calm-%d", i)}).FirstErr(); err != nil {
			t.Fatalf("the calm cell's produce %d: %v", i, err)
		}
	}
	produce(0)
	conns := statsOf(t, calm).Conns
	faulty.Pause()
	faulty.CutAll()
	for i := 1; i <= 20; i++ {
		produce(i)
	}
	if n := calmFaults.Load(); n != 0 {
		t.Errorf("%d frames of the calm cell were faulted", n)
	}
	if n := calmProduces.Load(); n < 21 {
		t.Errorf("the calm cell's network saw %d Produce requests, want one per record, 21", n)
	}
	if now := statsOf(t, calm).Conns; now != conns {
		t.Errorf("the calm cell's client connected %d times after the faulty cell's cut", now-conns)
	}
	faulty.Resume()
}

func statsOf(t *testing.T, n ClientNetwork) faults.Stats {
	t.Helper()
	s, ok := n.(interface{ Stats() faults.Stats })
	if !ok {
		t.Fatalf("%T has no Stats", n)
	}
	return s.Stats()
}
