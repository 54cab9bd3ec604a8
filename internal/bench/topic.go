package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchTopic is the topic a run uses and whether the run created it.
type benchTopic struct {
	name       string
	partitions []int32
	created    bool
}

// freshTopicName is bench-<8 random hex digits>.
func freshTopicName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "bench-" + hex.EncodeToString(b)
}

// newAdmin is the run's admin client. kadm answers Metadata from kgo's cache, which is
// kept for MetadataMinAge (5 s by default): in a cluster, a broker that had not yet
// applied a topic's creation answers "unknown topic", and waiting for the topic's
// leaders would then see that answer for 5 s. A short age keeps each poll fresh.
func newAdmin(seeds []string) (*kadm.Client, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("waybill-bench"),
		kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// ensureTopic creates the workload's topic, with its replication factor and
// min.insync.replicas, when it does not exist and waits until its partitions have
// leaders. An existing topic keeps the replication it has.
func ensureTopic(ctx context.Context, adm *kadm.Client, w Workload) (*benchTopic, error) {
	t := &benchTopic{name: w.Topic}
	if t.name == "" {
		t.name = freshTopicName()
	}
	var configs map[string]*string
	if w.MinInsyncReplicas > 0 {
		configs = map[string]*string{"min.insync.replicas": kadm.StringPtr(strconv.Itoa(w.MinInsyncReplicas))}
	}
	resp, err := adm.CreateTopic(ctx, w.Partitions, w.ReplicationFactor, configs, t.name)
	switch {
	case err == nil && resp.Err == nil:
		t.created = true
	case errors.Is(err, kerr.TopicAlreadyExists) || errors.Is(resp.Err, kerr.TopicAlreadyExists):
		if w.Topic == "" {
			return nil, fmt.Errorf("fresh topic %s already exists", t.name)
		}
	case err != nil:
		return nil, fmt.Errorf("creating topic %s: %w", t.name, err)
	default:
		return nil, fmt.Errorf("creating topic %s: %w", t.name, resp.Err)
	}
	return t, t.waitForLeaders(ctx, adm)
}

func (t *benchTopic) waitForLeaders(ctx context.Context, adm *kadm.Client) error {
	for {
		md, err := adm.Metadata(ctx, t.name)
		if err == nil {
			if td, ok := md.Topics[t.name]; ok && td.Err == nil && len(td.Partitions) > 0 && allLed(td) {
				t.partitions = td.Partitions.Numbers()
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for topic %s to have leaders: %w", t.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func allLed(td kadm.TopicDetail) bool {
	for _, p := range td.Partitions {
		if p.Err != nil || p.Leader < 0 {
			return false
		}
	}
	return true
}

// recordsStored sums the topic's partition end offsets minus start offsets: the number of
// records a consumer reading from the start will see (ignoring control records).
func (t *benchTopic) recordsStored(ctx context.Context, adm *kadm.Client) (int64, error) {
	ends, err := adm.ListEndOffsets(ctx, t.name)
	if err != nil {
		return 0, err
	}
	starts, err := adm.ListStartOffsets(ctx, t.name)
	if err != nil {
		return 0, err
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n += o.Offset
		}
	})
	starts.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			n -= o.Offset
		}
	})
	return n, nil
}

// delete removes the topic when the run created it and was not asked to keep it.
func (t *benchTopic) delete(ctx context.Context, adm *kadm.Client, keep bool) error {
	if !t.created || keep {
		return nil
	}
	resp, err := adm.DeleteTopic(ctx, t.name)
	if err == nil {
		err = resp.Err
	}
	return err
}
