package group

import "github.com/waybill/waybill/internal/keyhash"

// PartitionFor returns the __consumer_offsets partition that owns groupID, as Kafka
// computes it, so that Kafka tooling locates the same coordinator.
func (c *Coordinator) PartitionFor(groupID string) int32 {
	return keyhash.Partition(groupID, c.cfg.NumPartitions)
}
