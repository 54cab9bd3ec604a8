// Package exactlyonce_test checks Waybill's transactions end to end with real franz-go
// clients: consume-transform-produce through kill -9, read_committed isolation, zombie
// fencing, abandoned transactions aborted on timeout, and restarts in the middle of
// transactions. Every assertion is made from what was actually produced and consumed.
package exactlyonce_test

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
	dir, err := os.MkdirTemp("", "waybill-exactlyonce-")
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
