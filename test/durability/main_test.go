// Package durability_test checks Waybill's delivery guarantees end to end: a real broker
// (in-process or the built binary as a process), real franz-go clients, and faults that
// would break the guarantees if the broker got them wrong — kill -9 during acks=all
// produces, lost produce acks, and consumer group rebalances across a broker restart.
package durability_test

import (
	"os"
	"testing"

	"github.com/waybill/waybill/internal/testbroker"
)

// waybillBinary is the broker binary built once for the whole package.
var waybillBinary string

func TestMain(m *testing.M) { os.Exit(testbroker.RunWithBinary(m, &waybillBinary)) }
