package compat_test

import "testing"

// TestKcatConsumeOfEmptyTopicReachesEnd is the smallest client-side view of the
// broker's null-records bug (see TestFetchOfEmptyPartitionSendsEmptyNotNullRecords):
// `kcat -C -e` on an empty topic must print nothing and exit at end of partition;
// librdkafka normally gets there within one fetch wait (500 ms).
func TestKcatConsumeOfEmptyTopicReachesEnd(t *testing.T) {
	t.Parallel()
	requireKcat(t) // fail early, with the install hint, when kcat is missing
	ctx := testContext(t)
	b := startBroker(t)
	const topic = "kcat-empty"
	createTopic(ctx, t, b.Addr(), topic, 1)

	out := runKcat(ctx, t, "", "-C", "-b", b.Addr(), "-t", topic, "-e", "-o", "beginning", "-f", "%k=%s\n")
	if out != "" {
		t.Errorf("kcat read %q from an empty topic", out)
	}
}
