package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/waybill/waybill/internal/testbroker"
)

// fetchWritten signals each Fetch request a client has written to its connection.
type fetchWritten chan struct{}

func (c fetchWritten) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == int16(kmsg.Fetch) && err == nil {
		c <- struct{}{}
	}
}

// TestParkedFetchAnswersWhenItsTopicIsDeleted: a long-poll Fetch waiting on two idle
// partitions is answered as soon as one partition's topic is deleted, with
// UNKNOWN_TOPIC_OR_PARTITION for it when topics go by name (v12) and UNKNOWN_TOPIC_ID when
// they go by id (v13+), as Kafka completes a delayed fetch whose partition is gone, not
// at the end of the fetch's max wait.
func TestParkedFetchAnswersWhenItsTopicIsDeleted(t *testing.T) {
	for _, tc := range []struct {
		version int16
		want    *kerr.Error
	}{
		{12, kerr.UnknownTopicOrPartition},
		{16, kerr.UnknownTopicID},
	} {
		t.Run(fmt.Sprintf("v%d", tc.version), func(t *testing.T) {
			b := testbroker.Start(t)
			// Well under the fetch's max wait: only the deletion can end the fetch in time.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			admin := newClient(t, b.Addr())
			createTopic(ctx, t, admin, "idle", 1, nil)
			createTopic(ctx, t, admin, "doomed", 1, nil)

			req := kmsg.NewPtrFetchRequest()
			req.MaxWaitMillis, req.MinBytes, req.MaxBytes = int32(time.Minute/time.Millisecond), 1, 1<<20
			for _, topic := range []string{"idle", "doomed"} {
				ft := kmsg.NewFetchRequestTopic()
				ft.Topic, ft.TopicID = topic, topicID(ctx, t, admin, topic)
				fp := kmsg.NewFetchRequestTopicPartition()
				fp.PartitionMaxBytes = 1 << 20
				ft.Partitions = append(ft.Partitions, fp)
				req.Topics = append(req.Topics, ft)
			}
			versions := kversion.Stable()
			versions.SetMaxKeyVersion(int16(kmsg.Fetch), tc.version)
			written := make(fetchWritten, 1)
			cl := newClient(t, b.Addr(), kgo.MaxVersions(versions), kgo.WithHooks(written))
			type answer struct {
				resp *kmsg.FetchResponse
				err  error
			}
			answered := make(chan answer, 1)
			go func() {
				resp, err := req.RequestWith(ctx, cl.Broker(1))
				answered <- answer{resp, err}
			}()
			select {
			case <-written:
			case <-ctx.Done():
				t.Fatal("the fetch was never sent")
			}
			deleteTopic(ctx, t, admin, "doomed")

			var a answer
			select {
			case a = <-answered:
			case <-ctx.Done():
				t.Fatalf("the fetch is still parked after its topic was deleted (max wait %d ms)", req.MaxWaitMillis)
			}
			if a.err != nil {
				t.Fatal(a.err)
			}
			if req.Version != tc.version {
				t.Fatalf("sent Fetch v%d, want v%d", req.Version, tc.version)
			}
			want := map[string]int16{"idle": 0, "doomed": tc.want.Code}
			for i, rt := range a.resp.Topics {
				name := req.Topics[i].Topic
				for _, rp := range rt.Partitions {
					if rp.ErrorCode != want[name] {
						t.Errorf("%s[%d]: error %v, want %v", name, rp.Partition, kerr.ErrorForCode(rp.ErrorCode), kerr.ErrorForCode(want[name]))
					}
				}
			}
			if len(a.resp.Topics) != 2 {
				t.Errorf("answer covers %d topics, want 2", len(a.resp.Topics))
			}
		})
	}
}
