package faults_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
	"github.com/waybill/waybill/internal/testbroker"
)

// lockedBuffer collects a process's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProcessNodeKill9AndPause: values acked with durable acks survive kill -9 and a
// restart behind the same proxy address; SIGSTOP leaves requests unanswered until SIGCONT.
func TestProcessNodeKill9AndPause(t *testing.T) {
	t.Parallel()
	const topic = "process"
	stderr := &lockedBuffer{}
	pn, err := faults.StartProcessNode(faults.ProcessConfig{Binary: waybillBinary, Dir: t.TempDir(), Stderr: stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pn.Close(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("broker stderr:\n%s", stderr.String())
		}
	})
	testbroker.CreateTopic(t, pn.Addr(), topic, 1)
	cl := testbroker.NewClient(t, pn.Addr(), quickRetries()...)
	var acked []string
	for _, v := range []string{"a", "b", "c"} {
		produce(t, cl, topic, v)
		acked = append(acked, v)
	}

	if err := pn.Kill(); err != nil {
		t.Fatal(err)
	}
	if pn.Running() {
		t.Fatal("running after kill -9")
	}
	if err := pn.Start(); err != nil {
		t.Fatal(err)
	}
	if lost := missing(acked, testbroker.CountValues(t, pn.Addr(), topic)); len(lost) > 0 {
		t.Fatalf("kill -9 lost acked values %v", lost)
	}
	produce(t, cl, topic, "after restart") // the same client carries on through the proxy

	metadata := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := cl.Broker(1).Request(ctx, kmsg.NewPtrMetadataRequest())
		return err
	}
	// Open the connection to broker 1 first: a handshake with a stopped broker is bounded
	// by kgo's own 10s timeout, not by the request's context.
	if err := metadata(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := pn.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := metadata(300 * time.Millisecond); !isTimeout(err) {
		t.Fatalf("metadata from a stopped broker: got %v, want a timeout", err)
	}
	if err := pn.Resume(); err != nil {
		t.Fatal(err)
	}
	if err := metadata(10 * time.Second); err != nil {
		t.Fatalf("metadata after SIGCONT: %v", err)
	}
	if pn.Starts() != 2 {
		t.Fatalf("%d starts, want 2", pn.Starts())
	}
}
