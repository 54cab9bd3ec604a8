package main

import (
	"os"
	"testing"
)

// runAsWaybill, set in a child's environment, makes this test binary behave as the
// waybill binary: a test can then run commands that start `waybill serve` processes of
// os.Executable() (bench --nodes) without building the binary first.
const runAsWaybill = "GO_TEST_RUN_WAYBILL_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runAsWaybill) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
