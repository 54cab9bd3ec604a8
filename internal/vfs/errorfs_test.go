package vfs

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestNoSpaceCutsTheCrossingWriteShort(t *testing.T) {
	m := NewMem()
	fs := WithErrors(m, NewNoSpace(5))
	f, err := fs.Create("/a")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Write([]byte("abc")); n != 3 || err != nil {
		t.Fatalf("first write: %d %v", n, err)
	}
	n, err := f.Write([]byte("defg"))
	if n != 2 || !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrInjected) {
		t.Fatalf("crossing write: %d %v", n, err)
	}
	if n, err := f.Write([]byte("h")); n != 0 || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on full disk: %d %v", n, err)
	}
	if got := readAll(t, m, "/a"); string(got) != "abcde" {
		t.Fatalf("content %q", got)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync without SyncToo: %v", err)
	}
}

func TestInjectorsCompose(t *testing.T) {
	m := NewMem()
	sw := NewSwitch(Any(
		OnOp(OpSyncDir, syscall.EIO),
		AfterN(1, Matching(func(op Op) bool {
			return op.Kind == OpSync && strings.HasSuffix(op.Path, ".log")
		}, syscall.EIO)),
	))
	fs := WithErrors(m, sw)
	f, _ := fs.Create("/x.log")
	if err := fs.SyncDir("/"); err != nil {
		t.Fatalf("switch off but failed: %v", err)
	}
	sw.On()
	if err := fs.SyncDir("/"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("syncdir: %v", err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("first sync should pass AfterN(1): %v", err)
	}
	if err := f.Sync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("second sync: %v", err)
	}
	g, _ := fs.Create("/y.idx")
	if err := g.Sync(); err != nil {
		t.Fatalf("predicate should not match: %v", err)
	}
	sw.Off()
	if err := f.Sync(); err != nil {
		t.Fatalf("switched off: %v", err)
	}
}
