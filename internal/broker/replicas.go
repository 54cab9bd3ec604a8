package broker

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/config"
	wlog "github.com/waybill/waybill/internal/log"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/replication"
)

// replicas hosts the partition replicas the metadata image assigns to this node. It
// follows the image: every change opens new replicas, deletes those of deleted topics and
// applies config changes, in the order the quorum committed them.
type replicas struct {
	b *Broker

	mu     sync.RWMutex
	topics map[string]*topicReplicas
}

// topicReplicas is a topic as this node hosts it.
type topicReplicas struct {
	meta  *cluster.Topic
	cfg   config.Topic
	parts []*partition.Partition // by index; nil where this node holds no replica
}

func newReplicas(b *Broker) *replicas {
	return &replicas{b: b, topics: make(map[string]*topicReplicas)}
}

func (m *replicas) topic(name string) *topicReplicas {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.topics[name]
}

func (m *replicas) get(topic string, index int32) *partition.Partition {
	tr := m.topic(topic)
	if tr == nil || index < 0 || int(index) >= len(tr.parts) {
		return nil
	}
	return tr.parts[index]
}

// Replica is this broker's replica of topic's partition index, leader or follower, or
// nil: for tools and tests that compare replicas.
func (b *Broker) Replica(topic string, index int32) *partition.Partition {
	return b.replicas.get(topic, index)
}

// Image is the metadata image this broker applied last.
func (b *Broker) Image() *cluster.Image { return b.meta.Image() }

// ledReplica is a partition replica this broker leads, with its topic as this broker
// hosts it.
type ledReplica struct {
	*partition.Partition
	meta *cluster.Topic
	cfg  config.Topic
}

// led is the replica of topic's partition index that this broker leads. Otherwise code
// is the answer a client gets, as Kafka's: UNKNOWN_TOPIC_OR_PARTITION when the metadata
// has no such partition, NOT_LEADER_OR_FOLLOWER when another broker leads it or none
// does, with the leader the metadata names (-1 for none) for KIP-951's hint.
func (m *replicas) led(topic string, index int32) (r ledReplica, code int16, leader cluster.Partition) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	tr := m.topics[topic]
	if tr == nil || index < 0 || int(index) >= len(tr.parts) {
		// The image is published before this broker opens the replicas it assigns, so
		// a topic just created may be in the metadata clients read and not here yet:
		// NOT_LEADER_OR_FOLLOWER, retriable, as Kafka answers for a partition its
		// metadata cache knows and its replica manager does not.
		if mt := m.b.meta.Image().Topics[topic]; mt != nil && index >= 0 && int(index) < len(mt.Partitions) {
			return r, kerr.NotLeaderForPartition.Code, mt.Partitions[index]
		}
		return r, kerr.UnknownTopicOrPartition.Code, cluster.Partition{Leader: -1, LeaderEpoch: -1}
	}
	pm := tr.meta.Partitions[index]
	if pm.Leader != m.b.cfg.NodeID || tr.parts[index] == nil {
		return r, kerr.NotLeaderForPartition.Code, pm
	}
	return ledReplica{tr.parts[index], tr.meta, tr.cfg}, 0, pm
}

// each calls fn for every hosted partition. fn runs without the lock (maintenance can
// take long, and must not hold up topic creation); a partition deleted meanwhile answers
// its calls with ErrClosed.
func (m *replicas) each(fn func(p *partition.Partition)) {
	m.mu.RLock()
	var parts []*partition.Partition
	for _, tr := range m.topics {
		for _, p := range tr.parts {
			if p != nil {
				parts = append(parts, p)
			}
		}
	}
	m.mu.RUnlock()
	for _, p := range parts {
		fn(p)
	}
}

// eachLed calls fn for every partition this broker leads, without the lock (see each).
func (m *replicas) eachLed(fn func(mt *cluster.Topic, p *partition.Partition)) {
	type led struct {
		mt *cluster.Topic
		p  *partition.Partition
	}
	var all []led
	m.mu.RLock()
	for _, tr := range m.topics {
		for i, p := range tr.parts {
			if p != nil && tr.meta.Partitions[i].Leader == m.b.cfg.NodeID {
				all = append(all, led{tr.meta, p})
			}
		}
	}
	m.mu.RUnlock()
	for _, l := range all {
		fn(l.mt, l.p)
	}
}

// apply brings the hosted replicas in line with img. It runs on the metadata apply path,
// so a command such as CreateTopic returns only once its replicas are open.
func (m *replicas) apply(img *cluster.Image) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, tr := range m.topics {
		mt, ok := img.Topics[name]
		if ok && mt.ID == tr.meta.ID {
			continue
		}
		for _, p := range tr.parts {
			if p == nil {
				continue
			}
			m.b.fetchers.Unfollow(p)
			if err := p.Delete(); err != nil {
				m.b.log.Error("deleting partition replica", "topic", name, "partition", p.Index(), "err", err)
			}
		}
		delete(m.topics, name)
		m.b.log.Info("deleted topic replicas", "topic", name)
	}
	for name, mt := range img.Topics {
		if err := m.applyTopicLocked(img, name, mt); err != nil {
			m.b.log.Error("opening topic replicas", "topic", name, "err", err)
		}
	}
}

func (m *replicas) applyTopicLocked(img *cluster.Image, name string, mt *cluster.Topic) error {
	cfg, err := config.ParseTopic(mt.Configs, m.b.cfg.Broker)
	if err != nil {
		// The quorum only commits valid configs; a broker default could still clash.
		return fmt.Errorf("topic config: %w", err)
	}
	tr := m.topics[name]
	if tr == nil {
		tr = &topicReplicas{}
		m.topics[name] = tr
	}
	configChanged := tr.meta != nil && !reflect.DeepEqual(tr.cfg, cfg)
	tr.meta, tr.cfg = mt, cfg
	for len(tr.parts) < len(mt.Partitions) {
		tr.parts = append(tr.parts, nil)
	}
	for i, pm := range mt.Partitions {
		p := tr.parts[i]
		switch {
		case p != nil:
			if configChanged {
				p.SetConfig(m.partitionConfig(name, pm, cfg))
			}
		case !hosts(pm, m.b.cfg.NodeID):
			continue
		default:
			var err error
			if p, err = partition.Open(m.partitionConfig(name, pm, cfg)); err != nil {
				return err
			}
			tr.parts[i] = p
		}
		m.b.follow(mt, p, pm, cfg)
	}
	return nil
}

// follow gives p the role the metadata assigns it: the leader takes produces and its
// coordinator state loads; a follower fetches from its leader.
func (b *Broker) follow(mt *cluster.Topic, p *partition.Partition, pm cluster.Partition, cfg config.Topic) {
	changed, err := p.SetLeadership(partition.Leadership{
		Leader: pm.Leader, LeaderEpoch: pm.LeaderEpoch, PartitionEpoch: pm.PartitionEpoch,
		Replicas: pm.Replicas, ISR: pm.ISR, MinISR: int(cfg.MinInsyncReplicas),
	})
	if err != nil {
		b.log.Error("taking a new leadership", "topic", mt.Name, "partition", pm.Index, "err", err)
	}
	if !changed {
		return
	}
	leading := pm.Leader == b.cfg.NodeID
	if leading || pm.Leader < 0 {
		b.fetchers.Unfollow(p)
	} else {
		b.fetchers.Follow(replication.Followed{Replica: p, TopicID: mt.ID, Leader: pm.Leader, LeaderEpoch: pm.LeaderEpoch})
	}
	b.log.Debug("partition role", "topic", mt.Name, "partition", pm.Index, "leader", pm.Leader, "epoch", pm.LeaderEpoch, "leading", leading)
	b.onLeadershipChanged(mt, p, leading)
}

// storageFailed hands the broker's leaderships to other replicas after its storage
// failed (cluster.Node.StorageFailed). A single node keeps serving what it can read
// instead: fencing it would take every partition offline, with no replica to move to.
func (b *Broker) storageFailed(err error) {
	if len(b.meta.Image().Brokers) > 1 {
		b.meta.StorageFailed(err)
	}
}

func hosts(pm cluster.Partition, node int32) bool {
	for _, r := range pm.Replicas {
		if r == node {
			return true
		}
	}
	return false
}

func (m *replicas) partitionConfig(topic string, pm cluster.Partition, cfg config.Topic) partition.Config {
	return partition.Config{
		Topic:         topic,
		Index:         pm.Index,
		FS:            m.b.cfg.FS,
		Dir:           filepath.Join(m.b.logsDir(), fmt.Sprintf("%s-%d", topic, pm.Index)),
		Log:           logConfig(cfg, m.b.log),
		DurableAcks:   cfg.DurableAcks,
		LogAppendTime: cfg.LogAppendTime(),
		LeaderEpoch:   pm.LeaderEpoch,
		NodeID:        m.b.cfg.NodeID,
		OnFailure:     m.b.storageFailed,
		Logger:        m.b.log,
	}
}

func logConfig(cfg config.Topic, logger *slog.Logger) wlog.Config {
	lc := wlog.DefaultConfig()
	lc.Logger = logger
	lc.SegmentBytes = int64(cfg.SegmentBytes)
	lc.SegmentMs = cfg.SegmentMs
	lc.RetentionBytes = cfg.RetentionBytes
	lc.RetentionMs = cfg.RetentionMs
	lc.IndexIntervalBytes = int64(cfg.IndexIntervalBytes)
	lc.SegmentIndexBytes = int64(cfg.SegmentIndexBytes)
	lc.CleanupPolicyDelete = cfg.CleanupPolicyDelete
	lc.CleanupPolicyCompact = cfg.CleanupPolicyCompact
	lc.DeleteRetentionMs = cfg.DeleteRetentionMs
	lc.MinCompactionLagMs = cfg.MinCompactionLagMs
	lc.MinCleanableDirtyRatio = cfg.MinCleanableDirtyRatio
	return lc
}

// closeAll closes every replica cleanly (broker shutdown).
func (m *replicas) closeAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, tr := range m.topics {
		for _, p := range tr.parts {
			if p == nil {
				continue
			}
			if err := p.Close(); err != nil {
				m.b.log.Error("closing partition replica", "topic", name, "partition", p.Index(), "err", err)
			}
		}
	}
	m.topics = map[string]*topicReplicas{}
}
