package txn

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeTransactions(t *testing.T) {
	h := newHarness(t, nil)
	p := h.initProducer("tx")
	requireCode(t, "add", h.add(p, tp("b", 1), tp("a", 2), tp("a", 0)), nil)
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{"tx", "nope", ""}
	resp := h.c.DescribeTransactions(t.Context(), req)
	if len(resp.TransactionStates) != 3 {
		t.Fatalf("got %d states", len(resp.TransactionStates))
	}
	d := resp.TransactionStates[0]
	if d.ErrorCode != 0 || d.State != "Ongoing" || d.ProducerID != p.producerID || d.ProducerEpoch != p.epoch ||
		d.TimeoutMillis != testTimeoutMillis || d.StartTimestamp != h.clock.Now().UnixMilli() ||
		len(d.Topics) != 2 || d.Topics[0].Topic != "a" || !slices.Equal(d.Topics[0].Partitions, []int32{0, 2}) ||
		d.Topics[1].Topic != "b" || !slices.Equal(d.Topics[1].Partitions, []int32{1}) {
		t.Fatalf("describe tx: %+v", d)
	}
	requireCode(t, "unknown", resp.TransactionStates[1].ErrorCode, kerr.TransactionalIDNotFound)
	requireCode(t, "empty", resp.TransactionStates[2].ErrorCode, kerr.InvalidRequest)
}

func TestListTransactionsFilters(t *testing.T) {
	h := newHarness(t, nil)
	empty := h.initProducer("app-empty")
	ongoing := h.initProducer("app-ongoing")
	requireCode(t, "add", h.add(ongoing, tp("a", 0)), nil)
	h.clock.Advance(time.Minute)
	young := h.initProducer("other-young")
	requireCode(t, "add", h.add(young, tp("a", 0)), nil)
	committed := h.initProducer("app-committed")
	requireCode(t, "add", h.add(committed, tp("a", 0)), nil)
	requireCode(t, "commit", h.end(committed, true), nil)
	h.settle()
	h.clock.Advance(time.Second)

	list := func(version int16, edit func(*kmsg.ListTransactionsRequest)) (ids []string, resp *kmsg.ListTransactionsResponse) {
		req := kmsg.NewPtrListTransactionsRequest()
		req.Version = version
		if edit != nil {
			edit(req)
		}
		resp = h.c.ListTransactions(t.Context(), req)
		for _, s := range resp.TransactionStates {
			ids = append(ids, s.TransactionalID+"="+s.TransactionState)
		}
		return ids, resp
	}
	for _, tc := range []struct {
		name    string
		version int16
		edit    func(*kmsg.ListTransactionsRequest)
		want    []string
	}{
		{"all", 0, nil, []string{"app-committed=CompleteCommit", "app-empty=Empty", "app-ongoing=Ongoing", "other-young=Ongoing"}},
		{"state", 0, func(r *kmsg.ListTransactionsRequest) { r.StateFilters = []string{"Ongoing", "Empty"} },
			[]string{"app-empty=Empty", "app-ongoing=Ongoing", "other-young=Ongoing"}},
		{"producer id", 0, func(r *kmsg.ListTransactionsRequest) { r.ProducerIDFilters = []int64{empty.producerID} },
			[]string{"app-empty=Empty"}},
		{"duration", 1, func(r *kmsg.ListTransactionsRequest) {
			r.StateFilters = []string{"Ongoing"}
			r.DurationFilterMillis = 30_000
		}, []string{"app-ongoing=Ongoing"}},
		{"pattern", 2, func(r *kmsg.ListTransactionsRequest) { p := "app-.*g"; r.TransactionalIDPattern = &p },
			[]string{"app-ongoing=Ongoing"}},
		{"pattern ignored before v2", 1, func(r *kmsg.ListTransactionsRequest) { p := "nothing"; r.TransactionalIDPattern = &p },
			[]string{"app-committed=CompleteCommit", "app-empty=Empty", "app-ongoing=Ongoing", "other-young=Ongoing"}},
	} {
		got, resp := list(tc.version, tc.edit)
		requireCode(t, tc.name, resp.ErrorCode, nil)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	got, resp := list(0, func(r *kmsg.ListTransactionsRequest) { r.StateFilters = []string{"CompleteCommit", "Bogus"} })
	if !slices.Equal(resp.UnknownStateFilters, []string{"Bogus"}) || !slices.Equal(got, []string{"app-committed=CompleteCommit"}) {
		t.Fatalf("unknown state filter: got %v, unknown %v", got, resp.UnknownStateFilters)
	}
	_, resp = list(2, func(r *kmsg.ListTransactionsRequest) { p := "("; r.TransactionalIDPattern = &p })
	requireCode(t, "bad pattern", resp.ErrorCode, kerr.InvalidRegularExpression)
}
