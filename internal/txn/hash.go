package txn

import "github.com/waybill/waybill/internal/keyhash"

// PartitionFor returns the __transaction_state partition that owns transactionalID, as
// Kafka computes it, so that Kafka tooling locates the same coordinator.
func (c *Coordinator) PartitionFor(transactionalID string) int32 {
	return keyhash.Partition(transactionalID, c.cfg.NumPartitions)
}
