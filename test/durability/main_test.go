// Package durability_test checks Waybill's delivery guarantees end to end: a real broker
// (in-process or the built binary as a process), real franz-go clients, and faults that
// would break the guarantees if the broker got them wrong — kill -9 during acks=all
// produces, lost produce acks, and consumer group rebalances across a broker restart.
package durability_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// waybillBinary is the broker binary built once for the whole package.
var waybillBinary string

func TestMain(m *testing.M) {
	os.Exit(runWithBinary(m))
}

func runWithBinary(m *testing.M) int {
	dir, err := os.MkdirTemp("", "waybill-durability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := buildWaybill(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	waybillBinary = bin
	return m.Run()
}

// buildWaybill builds ./cmd/waybill from the module root into dir.
func buildWaybill(dir string) (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: not inside a module")
	}
	bin := filepath.Join(dir, "waybill")
	build := exec.Command("go", "build", "-o", bin, "./cmd/waybill")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/waybill: %w\n%s", err, out)
	}
	return bin, nil
}
