package lab

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/waybill/waybill/internal/faults"
)

// An acks=0 producer settles as soon as its requests are written, before the broker has
// them: the cell must not stop its consumers on a log that has not caught up yet, or
// every value would look unprocessed. The cell's proxy holds its Produce requests back
// to make the gap wide.
func TestAcksZeroCellWaitsForValuesOnTheirWay(t *testing.T) {
	target, err := NewNodeTarget(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	row, _ := RowByID("acks-0")
	slow := Fault{ID: "slow-requests", Name: "slow requests", expect: anyTarget(allowedOnly),
		inject: func(ctx context.Context, c *cellRun) error {
			c.net.SetRule(faults.DelayFrames(faults.ToBroker, int16(kmsg.Produce), 50*time.Millisecond, faults.Always()))
			return plainRun(ctx, c)
		}}
	res := RunCell(context.Background(), target, row, slow, testCell(4))
	if res.Verdict != Holds || res.Result.Observed() != "exact" {
		t.Errorf("%s, observed %s (%s); want every value stored and processed once", res.Verdict, res.Result.Observed(), res.Note)
	}
}
