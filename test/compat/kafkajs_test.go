package compat_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// nodeDir holds the node scripts and their package.json/package-lock.json; its
// node_modules is installed by `npm ci`, not committed.
const nodeDir = "testdata/node"

// kafkajsInstallHint is what to run when kafkajs is missing. As with the other client
// tools a missing client fails the test: CI installs it, so skipping would hide a
// broken setup.
const kafkajsInstallHint = "run scripts/test, which installs it, or `npm ci --prefix test/compat/testdata/node` from the repository root"

// requireKafkajs returns node's path once it can load kafkajs, or fails the test.
func requireKafkajs(ctx context.Context, t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (%v): run scripts/test, which installs Node.js (apt-get install nodejs npm) and kafkajs", err)
	}
	if _, err := os.Stat(nodeDir + "/node_modules/kafkajs/package.json"); err != nil {
		t.Fatalf("kafkajs is not installed in %s/node_modules (%v): %s", nodeDir, err, kafkajsInstallHint)
	}
	cmd := exec.CommandContext(ctx, node, "-p", "require('kafkajs/package.json').version")
	cmd.Dir = nodeDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node cannot load kafkajs (%v: %s): %s", err, strings.TrimSpace(string(out)), kafkajsInstallHint)
	}
	t.Logf("kafkajs %s", strings.TrimSpace(string(out)))
	return node
}
