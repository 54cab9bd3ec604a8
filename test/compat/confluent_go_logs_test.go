package compat_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// librdkafkaErrorLevel is syslog's "error": librdkafka logs protocol violations it
// recovers from (a response it cannot parse, then a retry) at this level or below and
// reports nothing to the application, so the tests read its log.
const librdkafkaErrorLevel = 3

// rdkafkaLogWatch collects a confluent-kafka-go client's error-level log lines.
type rdkafkaLogWatch struct {
	events chan kafka.LogEvent
	stop   chan struct{}
	done   sync.WaitGroup
	mu     sync.Mutex
	errors []string
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
	if ev.Level > librdkafkaErrorLevel {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errors = append(w.errors, fmt.Sprintf("%s %s: %s", ev.Name, ev.Tag, ev.Message))
}

func (w *rdkafkaLogWatch) check(t *testing.T) {
	t.Helper()
	close(w.stop)
	w.done.Wait()
	for _, e := range w.errors {
		t.Errorf("librdkafka logged an error: %s", e)
	}
}
