package compat_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// librdkafkaErrorLevel is syslog's "error": librdkafka logs protocol violations it
// recovers from (a response it cannot parse, then a retry) at this level or below and
// reports nothing to the application, so the tests read its log.
const librdkafkaErrorLevel = 3

// rdkafkaLogWatch collects a confluent-kafka-go client's log: its error-level lines, and
// every line for a test that turns librdkafka's debug contexts on and shows them when
// the client misbehaves.
type rdkafkaLogWatch struct {
	events chan kafka.LogEvent
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	errors []string
	all    strings.Builder
}

// watchRdkafkaLogs routes cfg's librdkafka log to a watch whose check, called after
// the client is closed, fails the test on any error-level line.
func watchRdkafkaLogs(cfg kafka.ConfigMap) *rdkafkaLogWatch {
	w := &rdkafkaLogWatch{events: make(chan kafka.LogEvent, 1000), stop: make(chan struct{})}
	cfg["go.logs.channel.enable"] = true
	cfg["go.logs.channel"] = w.events
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		for {
			select {
			case ev := <-w.events:
				w.note(ev)
			case <-w.stop:
				for {
					select {
					case ev := <-w.events:
						w.note(ev)
					default:
						return
					}
				}
			}
		}
	}()
	return w
}

func (w *rdkafkaLogWatch) note(ev kafka.LogEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(&w.all, "%s %s %s [%d]: %s\n", ev.Timestamp.Format("15:04:05.000"), ev.Name, ev.Tag, ev.Level, ev.Message)
	if ev.Level <= librdkafkaErrorLevel {
		w.errors = append(w.errors, fmt.Sprintf("%s %s: %s", ev.Name, ev.Tag, ev.Message))
	}
}

// text is every line logged so far. confluent-kafka-go stops forwarding the log when
// Close begins, so what a hanging Close logs itself is not in it.
func (w *rdkafkaLogWatch) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

func (w *rdkafkaLogWatch) check(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.done.Wait()
	for _, e := range w.errors {
		t.Errorf("librdkafka logged an error: %s", e)
	}
}
