package exactlyonce_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/waybill/waybill/internal/testbroker"
)

// newTransactionalClient is a producer with the given transactional id.
func newTransactionalClient(t *testing.T, addr, txnID string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return testbroker.NewClient(t, addr, append([]kgo.Opt{kgo.TransactionalID(txnID)}, opts...)...)
}

// testContext is a context bounded by timeout and cancelled when the test ends.
func testContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
