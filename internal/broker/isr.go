package broker

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/cluster"
	"github.com/waybill/waybill/internal/partition"
	"github.com/waybill/waybill/internal/replication"
)

// replicationConfig sets up the follower side from the broker configs.
func (b *Broker) replicationConfig() replication.Config {
	bc := b.cfg.Broker
	return replication.Config{
		NodeID:      b.cfg.NodeID,
		BrokerEpoch: b.meta.BrokerEpoch,
		LeaderAddr: func(id int32) (string, bool) {
			br, ok := b.meta.Image().Brokers[id]
			if !ok {
				return "", false
			}
			return net.JoinHostPort(br.Host, strconv.Itoa(int(br.Port))), true
		},
		Dial:              b.cfg.Dial,
		MaxWait:           time.Duration(bc.ReplicaFetchWaitMaxMs) * time.Millisecond,
		MinBytes:          bc.ReplicaFetchMinBytes,
		PartitionMaxBytes: bc.ReplicaFetchMaxBytes,
		MaxBytes:          bc.ReplicaFetchResponseMaxBytes,
		Backoff:           time.Duration(bc.ReplicaFetchBackoffMs) * time.Millisecond,
		Logger:            b.log.With("component", "replication"),
	}
}

// expireISR takes followers that stopped catching up out of the ISRs of the partitions
// this broker leads, every half replica.lag.time.max.ms as Kafka's ISR expiration does.
func (b *Broker) expireISR() {
	lag := time.Duration(b.cfg.Broker.ReplicaLagTimeMaxMs) * time.Millisecond
	b.every(max(lag/2, 10*time.Millisecond), func() {
		b.replicas.eachLed(func(mt *cluster.Topic, p *partition.Partition) {
			if c := p.ShrinkISR(lag); c != nil {
				b.proposeISR(mt, p, c)
			}
		})
	})
}

// isrChangeTimeout bounds one ISR change's trip to the controller.
const isrChangeTimeout = 10 * time.Second

// proposeISR sends an ISR change to the controller in the background. The partition
// takes the change when the metadata brings it back; a refused or unanswered change is
// withdrawn, so that the next check may propose again.
func (b *Broker) proposeISR(mt *cluster.Topic, p *partition.Partition, c *partition.ISRChange) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), isrChangeTimeout)
		defer cancel()
		go func() {
			select {
			case <-b.stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := b.sendISRChange(ctx, mt.ID, p.Index(), c)
		if err != nil {
			b.log.Info("ISR change not made", "topic", mt.Name, "partition", p.Index(), "isr", c.ISR, "err", err)
			p.ISRChangeDone(c)
		}
	}()
}

func (b *Broker) sendISRChange(ctx context.Context, topicID cluster.UUID, index int32, c *partition.ISRChange) error {
	resp, err := b.meta.AlterPartition(ctx, func() *kmsg.AlterPartitionRequest {
		req := kmsg.NewPtrAlterPartitionRequest()
		req.BrokerID, req.BrokerEpoch = b.cfg.NodeID, b.meta.BrokerEpoch()
		rt := kmsg.NewAlterPartitionRequestTopic()
		rt.TopicID = topicID
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition, rp.LeaderEpoch, rp.PartitionEpoch = index, c.LeaderEpoch, c.PartitionEpoch
		rp.NewISR = c.ISR
		for i, r := range c.ISR {
			m := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
			m.BrokerID, m.BrokerEpoch = r, c.BrokerEpochs[i]
			rp.NewEpochISR = append(rp.NewEpochISR, m)
		}
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	})
	if err != nil {
		return err
	}
	if resp.ErrorCode != 0 {
		return kerr.ErrorForCode(resp.ErrorCode)
	}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 {
				return kerr.ErrorForCode(rp.ErrorCode)
			}
		}
	}
	if len(resp.Topics) == 0 {
		return fmt.Errorf("the controller answered for no partition")
	}
	return nil
}

// checkpointHighWatermarks saves every replica's high watermark periodically, so that a
// replica restarted after a crash reopens close to what was committed.
func (b *Broker) checkpointHighWatermarks() {
	b.every(time.Duration(b.cfg.Broker.ReplicaHWCheckpointIntervalMs)*time.Millisecond, func() {
		b.replicas.each((*partition.Partition).SaveHighWatermark)
	})
}
