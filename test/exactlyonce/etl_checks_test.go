package exactlyonce_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// checkExactlyOnce asserts that every input value's transform appears exactly once in
// the committed output, and nothing else does.
func checkExactlyOnce(t *testing.T, inputValues []string, committed map[int32]partitionRead) {
	t.Helper()
	counts := countValues(allValues(committed))
	var missing, duplicated []string
	for _, v := range inputValues {
		switch n := counts[transformed(v)]; {
		case n == 0:
			missing = append(missing, v)
		case n > 1:
			duplicated = append(duplicated, fmt.Sprintf("%s×%d", v, n))
		}
		delete(counts, transformed(v))
	}
	if len(missing) > 0 {
		t.Errorf("%d input values are missing from the committed output, e.g. %q", len(missing), firstFew(missing))
	}
	if len(duplicated) > 0 {
		t.Errorf("%d input values appear more than once in the committed output, e.g. %q", len(duplicated), firstFew(duplicated))
	}
	if len(counts) > 0 {
		t.Errorf("%d committed output values come from no input value", len(counts))
	}
	t.Logf("committed output: %d records for %d input values, %d missing, %d duplicated",
		len(allValues(committed)), len(inputValues), len(missing), len(duplicated))
}

// checkAbortedRecordsExist asserts that the output holds records read_uncommitted that
// read_committed skips — the aborted transactions' — so aborts really happened.
func checkAbortedRecordsExist(t *testing.T, committed, uncommitted map[int32]partitionRead) {
	t.Helper()
	aborted, abortedTxns := 0, 0
	for p, u := range uncommitted {
		visible := map[int64]bool{}
		for _, r := range committed[p].Records {
			visible[r.Offset] = true
		}
		for _, r := range u.Records {
			if !visible[r.Offset] {
				aborted++
			}
		}
		abortedTxns += len(committed[p].Aborted)
	}
	if aborted == 0 {
		t.Errorf("read_uncommitted shows no record that read_committed skips: no aborted transaction reached the output")
	}
	if abortedTxns == 0 {
		t.Errorf("read_committed Fetch listed no aborted transaction")
	}
	t.Logf("aborted: %d records read_uncommitted only, %d aborted transactions listed over the partitions", aborted, abortedTxns)
}

// checkGroupCommittedToEnd asserts that the group's committed offsets reached the end of
// every input partition.
func checkGroupCommittedToEnd(t *testing.T, cl *kgo.Client, group, topic string) {
	t.Helper()
	adm := kadm.NewClient(cl)
	ctx := testContext(t, 15*time.Second)
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		t.Fatalf("fetching the group's offsets: %v", err)
	}
	ends := listTopicOffsets(t, cl, topic).High
	for p, end := range ends {
		got, ok := committed.Lookup(topic, p)
		if !ok || got.At != end {
			t.Errorf("group %s committed %v for %s/%d, want the end offset %d", group, got.At, topic, p, end)
		}
	}
}

func firstFew(s []string) []string {
	return s[:min(len(s), 5)]
}
