// Package cluster_test checks Waybill's delivery guarantees on a cluster of real broker
// processes (the built binary, three nodes over TCP on 127.0.0.1) with real franz-go
// clients, through the faults that replication must survive: kill -9 of a partition
// leader, a rolling restart by SIGTERM, and kills of the transaction coordinator. Each
// test judges its history with the delivery lab's checker and compares the replicas'
// logs batch by batch once the nodes are stopped.
package cluster_test

import (
	"os"
	"testing"

	"github.com/waybill/waybill/internal/testbroker"
)

// waybillBinary is the broker binary built once for the whole package.
var waybillBinary string

func TestMain(m *testing.M) { os.Exit(testbroker.RunWithBinary(m, &waybillBinary)) }
