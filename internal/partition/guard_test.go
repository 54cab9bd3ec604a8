package partition

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/waybill/waybill/internal/vfs"
)

// TestGuardRefusesAWriteVerifiedBeforeItsTransactionEnded is the race KIP-890 closes: a
// batch verified while its transaction was ongoing must not land after the marker that
// ended it, where it would open a transaction nobody will finish.
func TestGuardRefusesAWriteVerifiedBeforeItsTransactionEnded(t *testing.T) {
	p := open(t, vfs.NewMem())
	defer p.Close()
	mustAppendTxn(t, p, 1, 0, 0, "a")

	stale := p.Guard(1)
	mustMarker(t, p, 1, 0, true)
	late, h := txnBatch(t, 1, 0, 1, "late")
	if _, err := p.AppendGuarded(late, h, stale); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("append verified before the marker: %v, want INVALID_TXN_STATE", err)
	}
	if lso, hw := p.LastStableOffset(), p.HighWatermark(); lso != hw {
		t.Fatalf("refused write left a transaction open: lso %d hw %d", lso, hw)
	}

	fresh := p.Guard(1)
	next, h := txnBatch(t, 1, 0, 1, "next")
	if _, err := p.AppendGuarded(next, h, fresh); err != nil {
		t.Fatalf("append verified after the marker: %v", err)
	}
	other := p.Guard(2)
	if _, err := p.AppendGuarded(next, h, other); !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("guard of another producer accepted: %v", err)
	}
}
