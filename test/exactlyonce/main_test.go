// Package exactlyonce_test checks Waybill's transactions end to end with real franz-go
// clients: consume-transform-produce through kill -9, read_committed isolation, zombie
// fencing, abandoned transactions aborted on timeout, and restarts in the middle of
// transactions. Every assertion is made from what was actually produced and consumed.
package exactlyonce_test

import (
	"os"
	"testing"

	"github.com/waybill/waybill/internal/testbroker"
)

// waybillBinary is the broker binary built once for the whole package.
var waybillBinary string

func TestMain(m *testing.M) { os.Exit(testbroker.RunWithBinary(m, &waybillBinary)) }
