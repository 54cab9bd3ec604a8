package bench

import (
	"context"
	"time"
)

// runPhase runs a produce phase: closed loop or on the fixed-rate schedule, with
// transactional clients or not, and returns its elapsed time.
func (ps *producers) runPhase(ctx context.Context, phase Phase, w Workload) time.Duration {
	fixedRate := phase == PhaseProduceRate
	switch {
	case ps.txnInterval > 0 && fixedRate:
		return ps.runOpenLoopTxn(ctx, w)
	case ps.txnInterval > 0:
		return ps.runClosedLoopTxn(ctx, w)
	case fixedRate:
		return ps.runOpenLoop(ctx, w)
	}
	return ps.runClosedLoop(ctx, w)
}
