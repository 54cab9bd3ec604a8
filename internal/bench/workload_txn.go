package bench

import "errors"

// validateTransactions checks the transactional settings: transactions need
// idempotent producers, which need acks=all.
func (w Workload) validateTransactions() error {
	if !w.Transactional && !w.CompareIdempotent {
		return nil
	}
	switch {
	case w.TxnInterval <= 0:
		return errors.New("the transaction interval must be positive")
	case !w.Idempotent:
		return errors.New("transactional producing needs idempotence (acks=all, --idempotent)")
	}
	return nil
}

// withTransactions is the workload with transactional producers switched on or off.
func (w Workload) withTransactions(on bool) Workload {
	w.Transactional = on
	return w
}
