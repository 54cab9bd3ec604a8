package log

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/waybill/waybill/internal/vfs"
)

func TestFullDiskLeavesNoPartialBatch(t *testing.T) {
	mem := vfs.NewMem()
	cfg := testConfig(t)
	cfg.SegmentBytes = 1 << 20
	l := mustOpen(t, mem, cfg, nil)
	appendN(t, l, 10, 5, 100, 1000)
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	l.Close()

	space := vfs.NewNoSpace(3000) // room for about four more batches
	fs := vfs.WithErrors(mem, space)
	l = mustOpen(t, fs, cfg, nil)
	var failed error
	for i := 0; i < 10 && failed == nil; i++ {
		_, failed = l.Append(makeBatch(5, 100, 1000), 0)
	}
	if !errors.Is(failed, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v", failed)
	}
	end := l.EndOffset()
	name := activeSegmentName(t, mem)
	_, size := readHeaders(t, l, 0, 1<<30, 1<<40)
	if got := len(readAllFile(t, mem, name)); got != size {
		t.Fatalf("file holds %d bytes, valid batches %d: a partial batch was left", got, size)
	}
	if _, err := l.Sync(); err != nil {
		t.Fatalf("sync after a failed write: %v", err)
	}
	// Space comes back; the log carries on where it was.
	space.Free(1 << 20)
	if res, err := l.Append(makeBatch(5, 100, 1000), 0); err != nil || res.BaseOffset != end {
		t.Fatalf("append after freeing space: %+v %v", res, err)
	}
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	l2 := mustOpen(t, mem.CrashClone(), cfg, nil)
	defer l2.Close()
	if l2.EndOffset() != end+5 {
		t.Fatalf("after crash: end %d want %d", l2.EndOffset(), end+5)
	}
}

func TestFullDiskDuringRoll(t *testing.T) {
	mem := vfs.NewMem()
	sw := vfs.NewSwitch(vfs.Matching(func(op vfs.Op) bool {
		return op.Kind == vfs.OpCreate || (op.Kind == vfs.OpWrite && strings.HasSuffix(op.Path, indexSuffix))
	}, syscall.ENOSPC))
	l := mustOpen(t, vfs.WithErrors(mem, sw), testConfig(t), nil)
	defer l.Close()
	sw.On()
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = l.Append(makeBatch(5, 100, 1000), 0)
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("roll on a full disk: %v", err)
	}
	end := l.EndOffset()
	sw.Off()
	if res, err := l.Append(makeBatch(5, 100, 1000), 0); err != nil || res.BaseOffset != end {
		t.Fatalf("append after space returns: %+v %v", res, err)
	}
	readHeaders(t, l, 0, 1<<30, 1<<40)
}

func TestFailedSyncFailsTheLog(t *testing.T) {
	mem := vfs.NewMem()
	sw := vfs.NewSwitch(vfs.OnOp(vfs.OpSync, syscall.EIO))
	l := mustOpen(t, vfs.WithErrors(mem, sw), testConfig(t), nil)
	appendN(t, l, 10, 5, 100, 1000)
	if d, err := l.Sync(); err != nil || d != 50 {
		t.Fatalf("sync: %d %v", d, err)
	}
	appendN(t, l, 10, 5, 100, 1000)
	sw.On()
	d, err := l.Sync()
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.EIO) || d != 50 {
		t.Fatalf("failed sync: %d %v", d, err)
	}
	sw.Off()
	// An fsync error cannot be retried away: the log stays failed.
	if _, err := l.Sync(); !errors.Is(err, ErrFailed) {
		t.Fatalf("sync after failure: %v", err)
	}
	if _, err := l.Append(makeBatch(1, 1, 1), 0); !errors.Is(err, ErrFailed) {
		t.Fatalf("append after failure: %v", err)
	}
	readHeaders(t, l, 0, 1<<30, 1<<40) // reads still work
	if err := l.Close(); err != nil {
		t.Fatalf("close of a failed log: %v", err)
	}
	// Reopening after a power loss recovers the durable prefix.
	l2 := mustOpen(t, mem.CrashClone(), testConfig(t), nil)
	defer l2.Close()
	if l2.EndOffset() != 50 {
		t.Fatalf("end %d", l2.EndOffset())
	}
}
