package compat_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// TestConfluentKafkaGoConsumerClosesAfterTopicDeletion: a confluent-kafka-go group
// consumer (its bundled librdkafka, which has the fix for librdkafka #4187) of two
// one-partition topics reads every record of both; one topic is deleted while assigned;
// the group rebalances it away; a commit of both partitions stores the kept one's offset
// and answers UNKNOWN_TOPIC_OR_PART for the deleted one; and Close returns within 10 s;
// with the cooperative-sticky and the range assignors. It is the strict form of
// TestConfluentKafkaPythonConsumerClosesAfterTopicDeletion, which Debian's older
// librdkafka cannot pass against Apache Kafka either.
func TestConfluentKafkaGoConsumerClosesAfterTopicDeletion(t *testing.T) {
	t.Parallel()
	if version, _ := kafka.LibraryVersion(); version < librdkafka2_1_0 {
		t.Fatalf("confluent-kafka-go bundles librdkafka %#x, older than the 2.1.0 this test needs", version)
	}
	for _, strategy := range []string{"cooperative-sticky", "range"} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			// Reading, the rebalance (30 s at most) and Close (10 s) fit well within it.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			b := startBroker(t)
			keep, gone := "kept-"+strategy, "deleted-"+strategy
			values := []string{"a", "b", "c"}
			for _, topic := range []string{keep, gone} {
				createTopic(ctx, t, b.Addr(), topic, 1)
				produceInput(ctx, t, b.Addr(), topic, 0, values)
			}

			cfg := kafka.ConfigMap{
				"bootstrap.servers":             b.Addr(),
				"group.id":                      "deleted-topic-" + strategy,
				"auto.offset.reset":             "earliest",
				"enable.auto.commit":            false,
				"partition.assignment.strategy": strategy,
				// The group leader learns of the deletion at its next metadata refresh
				// and rebalances the topic away, as in librdkafka's test 0113.
				"topic.metadata.refresh.interval.ms": 1000,
				"debug":                              "cgrp,protocol,consumer",
			}
			c, logs := newConfluentGoConsumer(t, cfg)
			closing, closed := false, false
			defer func() {
				switch {
				case closed:
					logs.check(t)
				case !closing:
					go c.Close() // the test failed first; a Close that hangs must not hold it
				}
			}()
			if err := c.SubscribeTopics([]string{keep, gone}, nil); err != nil {
				t.Fatalf("SubscribeTopics: %v", err)
			}

			read := map[string][]string{}
			for n := 0; n < 2*len(values); {
				switch ev := pollBefore(ctx, t, c, logs, "reading every record").(type) {
				case *kafka.Message:
					if ev.TopicPartition.Error != nil {
						t.Fatalf("consume error after %d records: %v", n, ev.TopicPartition.Error)
					}
					read[*ev.TopicPartition.Topic] = append(read[*ev.TopicPartition.Topic], string(ev.Value))
					n++
				case kafka.Error:
					t.Fatalf("client error after %d records: %v", n, ev)
				}
			}
			for _, topic := range []string{keep, gone} {
				if fmt.Sprint(read[topic]) != fmt.Sprint(values) {
					t.Errorf("read %v from %s, want %v", read[topic], topic, values)
				}
			}

			deleted, err := newAdmin(t, b.Addr()).DeleteTopics(ctx, gone)
			if err == nil {
				err = deleted.Error()
			}
			if err != nil {
				t.Fatalf("deleting %s: %v", gone, err)
			}
			// Bounded: the group leader sees the deletion at its next metadata refresh.
			rebalanced, stop := context.WithTimeout(ctx, 30*time.Second)
			defer stop()
			want := keep + "[0]"
			for {
				assignment, err := c.Assignment()
				if err != nil {
					t.Fatalf("Assignment: %v", err)
				}
				if describeAssignment(assignment) == want {
					break
				}
				// Until the rebalance the client reports the deleted topic as an error;
				// it is expected, and a record would be a failure.
				if m, ok := pollBefore(rebalanced, t, c, logs, "assignment of only "+want).(*kafka.Message); ok {
					t.Fatalf("read %s/%d@%d after every record was read", *m.TopicPartition.Topic, m.TopicPartition.Partition, m.TopicPartition.Offset)
				}
			}

			// The client rejoins as soon as its assignment changes, and a commit of the
			// generation it leaves is refused until the next one is synced, as Kafka
			// refuses it: such a refusal means poll and commit again.
			kept := []kafka.TopicPartition{{Topic: &keep, Partition: 0, Offset: kafka.Offset(len(values))}}
			for refused := 0; ; refused++ {
				_, err := c.CommitOffsets(kept)
				if err == nil {
					t.Logf("committed %s after %d refusals of the generation left", keep, refused)
					break
				}
				if code := errorCode(err); code != kafka.ErrIllegalGeneration && code != kafka.ErrRebalanceInProgress {
					t.Fatalf("committing %s: %v", keep, err)
				}
				pollBefore(rebalanced, t, c, logs, "commit of "+keep+" accepted after "+err.Error())
			}
			_, err = c.CommitOffsets([]kafka.TopicPartition{{Topic: &gone, Partition: 0, Offset: kafka.Offset(len(values))}})
			if code := errorCode(err); code != kafka.ErrUnknownTopicOrPart {
				t.Errorf("committing the deleted %s: %v, want %v", gone, err, kafka.ErrUnknownTopicOrPart)
			}

			start := time.Now()
			closing = true
			done := make(chan error, 1)
			go func() { done <- c.Close() }()
			select {
			case err := <-done:
				closed = true
				t.Logf("librdkafka %s: Close returned after %v", libVersion(), time.Since(start).Round(time.Millisecond))
				if err != nil {
					t.Errorf("Close: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("Close did not return within 10 s\nclient debug log until Close:\n%s", ends(logs.text()))
			}
			assertOffsetsEqual(t, "committed offsets of "+keep, committedOffsets(ctx, t, b.Addr(), "deleted-topic-"+strategy, keep), map[int32]int64{0: int64(len(values))})
			assertOffsetsEqual(t, "committed offsets of "+gone, committedOffsets(ctx, t, b.Addr(), "deleted-topic-"+strategy, gone), nil)
		})
	}
}

// pollBefore polls c once, failing the test with the client's debug log when ctx ends
// first, which only happens when what is awaited never does.
func pollBefore(ctx context.Context, t *testing.T, c *kafka.Consumer, logs *rdkafkaLogWatch, what string) kafka.Event {
	t.Helper()
	if ctx.Err() != nil {
		t.Fatalf("no %s before the deadline\nclient debug log:\n%s", what, ends(logs.text()))
	}
	return c.Poll(200)
}

// errorCode is err's librdkafka error code, ErrNoError for nil and ErrUnknown for an
// error of another kind.
func errorCode(err error) kafka.ErrorCode {
	if err == nil {
		return kafka.ErrNoError
	}
	if e, ok := err.(kafka.Error); ok {
		return e.Code()
	}
	return kafka.ErrUnknown
}

// describeAssignment shows an assignment as sorted "topic[partition]" entries.
func describeAssignment(tps []kafka.TopicPartition) string {
	var s []string
	for _, tp := range tps {
		s = append(s, fmt.Sprintf("%s[%d]", *tp.Topic, tp.Partition))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func libVersion() string {
	_, s := kafka.LibraryVersion()
	return s
}
