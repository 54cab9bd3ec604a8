package exactlyonce_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// beginTxn begins a transaction on cl, failing the test on error.
func beginTxn(t *testing.T, cl *kgo.Client) {
	t.Helper()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatalf("begin transaction: %v", err)
	}
}

// produceInTxn produces values to topic synchronously in cl's open transaction, failing
// the test on any error.
func produceInTxn(t *testing.T, cl *kgo.Client, topic string, values ...string) {
	t.Helper()
	if err := produceInTxnErr(cl, topic, values...); err != nil {
		t.Fatalf("transactional produce of %d values to %s: %v", len(values), topic, err)
	}
}

// produceInTxnErr is produceInTxn returning the first error instead of failing.
func produceInTxnErr(cl *kgo.Client, topic string, values ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Topic: topic, Value: []byte(v)}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// endTxn commits or aborts cl's open transaction, failing the test on error.
func endTxn(t *testing.T, cl *kgo.Client, commit kgo.TransactionEndTry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := cl.EndTransaction(ctx, commit); err != nil {
		t.Fatalf("ending transaction (commit=%v): %v", commit, err)
	}
}

// numbered is n values prefix-0 … prefix-(n-1).
func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// countValues counts each value's occurrences.
func countValues(values []string) map[string]int {
	out := make(map[string]int, len(values))
	for _, v := range values {
		out[v]++
	}
	return out
}
