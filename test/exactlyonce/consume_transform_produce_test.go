package exactlyonce_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/testbroker"
)

// TestConsumeTransformProduceThroughKill9 runs a two-member exactly-once pipeline over
// the waybill process: every 7th transaction is aborted, and the broker is killed with
// SIGKILL and restarted on the same data directory and port twice, in the middle of a
// transaction (its records produced, its offsets and end not yet sent) once 15 and then
// 35 transactions have committed (at most 500 records each, so both crashes happen well
// before the 30,000 input records are through); the first interrupted transaction is
// then aborted, the second committed. Once read_committed shows every input
// value in the output, the pipeline stops and the whole output is read back: each input
// value must appear exactly once read_committed, and read_uncommitted must show records of
// aborted transactions.
func TestConsumeTransformProduceThroughKill9(t *testing.T) {
	const (
		inputRecords = 30000
		input        = "etl-input"
		output       = "etl-output"
		group        = "etl"
	)
	killAfterCommitted := []int64{15, 35}

	bp := testbroker.StartProcess(t, waybillBinary)
	testbroker.CreateTopic(t, bp.Addr(), input, 3)
	testbroker.CreateTopic(t, bp.Addr(), output, 3)
	inputValues := prefillInput(t, bp.Addr(), input, inputRecords)

	pipeline := &etlPipeline{
		addr: bp.Addr(), input: input, output: output, group: group,
		abortEvery: 7, maxPoll: 500, committedBy: map[string]int64{},
	}
	crashes := crashMidTransaction(pipeline, killAfterCommitted)
	watcher := watchCommitted(t, bp.Addr(), output)
	started := time.Now()
	stopMembers := runMembers(t, pipeline, "etl-member-0", "etl-member-1")
	defer stopMembers()

	var kills []string
	deadline := time.Now().Add(75 * time.Second)
	for watcher.Distinct() < inputRecords {
		select {
		case crashed := <-crashes:
			at := pipeline.committedTxns.Load()
			bp.Kill()
			bp.Restart()
			close(crashed)
			kills = append(kills, fmt.Sprintf("mid-transaction after %d committed transactions", at))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("the output's read_committed content covers %d of %d input values after %v (%s)",
				watcher.Distinct(), inputRecords, time.Since(started).Round(time.Second), pipeline.summary(kills))
		}
	}
	if len(kills) != len(killAfterCommitted) {
		t.Fatalf("the pipeline finished after %d of the %d planned kills", len(kills), len(killAfterCommitted))
	}
	stopMembers()
	elapsed := time.Since(started)
	t.Logf("pipeline: %s in %v", pipeline.summary(kills), elapsed.Round(100*time.Millisecond))

	reader := testbroker.NewClient(t, bp.Addr())
	waitAllStable(t, reader, output, 30*time.Second)
	committed := readTopic(t, reader, output, readCommitted)
	uncommitted := readTopic(t, reader, output, readUncommitted)
	checkExactlyOnce(t, inputValues, committed)
	checkAbortedRecordsExist(t, committed, uncommitted)
	checkGroupCommittedToEnd(t, reader, group, input)
}
