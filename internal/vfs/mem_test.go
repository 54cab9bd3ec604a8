package vfs

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func readAll(t *testing.T, fs FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return b
}

func mustWrite(t *testing.T, f File, s string) {
	t.Helper()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func TestMemCrashDropsUnsyncedData(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/d"); err != nil {
		t.Fatal(err)
	}
	f, err := m.Create("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "hello")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, " world")

	// The name was never made durable: a crash loses the file entirely.
	if names, _ := m.CrashClone().List("/d"); len(names) != 0 {
		t.Fatalf("unsynced create survived: %v", names)
	}
	if err := m.SyncDir("/d"); err != nil {
		t.Fatal(err)
	}
	c := m.CrashClone()
	if got := readAll(t, c, "/d/a"); string(got) != "hello" {
		t.Fatalf("after crash got %q, want the synced prefix", got)
	}
	// The running FS still sees everything.
	if got := readAll(t, m, "/d/a"); string(got) != "hello world" {
		t.Fatalf("live got %q", got)
	}
}

// TestMemCloneKeepsUnsyncedData: a process crash (Clone) keeps every byte and name
// written, synced or not, while a power loss of the clone still drops the unsynced ones.
func TestMemCloneKeepsUnsyncedData(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/d"); err != nil {
		t.Fatal(err)
	}
	a, _ := m.Create("/d/a")
	mustWrite(t, a, "synced")
	a.Sync()
	m.SyncDir("/d")
	mustWrite(t, a, "+unsynced")
	b, _ := m.Create("/d/b") // a name never made durable
	mustWrite(t, b, "new")

	c := m.Clone()
	if got := readAll(t, c, "/d/a"); string(got) != "synced+unsynced" {
		t.Fatalf("clone of a: %q", got)
	}
	if got := readAll(t, c, "/d/b"); string(got) != "new" {
		t.Fatalf("clone of unsynced name b: %q", got)
	}
	// The clone remembers what was durable: a power loss after the process crash.
	lost := c.CrashClone()
	if got := readAll(t, lost, "/d/a"); string(got) != "synced" {
		t.Fatalf("power loss after clone: a = %q, want the synced prefix", got)
	}
	if names, _ := lost.List("/d"); !equal(names, []string{"a"}) {
		t.Fatalf("power loss after clone: names %v", names)
	}
	// Clone and original are independent from now on.
	mustWrite(t, a, "!")
	if got := readAll(t, c, "/d/a"); string(got) != "synced+unsynced" {
		t.Fatalf("write to the original reached the clone: %q", got)
	}
	ca, err := c.OpenAppend("/d/a")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, ca, "?")
	if err := ca.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, m, "/d/a"); string(got) != "synced+unsynced!" {
		t.Fatalf("write to the clone reached the original: %q", got)
	}
	if got := readAll(t, c.CrashClone(), "/d/a"); string(got) != "synced" {
		t.Fatalf("unsynced truncate in the clone reached its durable state: %q", got)
	}
}

func TestMemTruncateBelowSyncedKeepsDurableContent(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/a")
	mustWrite(t, f, "abcdef")
	f.Sync()
	m.SyncDir("/")
	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, "XY")
	if got := readAll(t, m.CrashClone(), "/a"); string(got) != "abcdef" {
		t.Fatalf("crash after unsynced truncate: got %q", got)
	}
	f.Sync()
	if got := readAll(t, m.CrashClone(), "/a"); string(got) != "abXY" {
		t.Fatalf("crash after synced truncate: got %q", got)
	}
}

func TestMemRenameAndRemoveNeedSyncDir(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/a")
	mustWrite(t, f, "1")
	f.Sync()
	m.SyncDir("/")
	if err := m.Rename("/a", "/b"); err != nil {
		t.Fatal(err)
	}
	if names, _ := m.CrashClone().List("/"); !equal(names, []string{"a"}) {
		t.Fatalf("unsynced rename visible after crash: %v", names)
	}
	m.SyncDir("/")
	if names, _ := m.CrashClone().List("/"); !equal(names, []string{"b"}) {
		t.Fatalf("synced rename lost: %v", names)
	}
	if err := m.Remove("/b"); err != nil {
		t.Fatal(err)
	}
	// An open handle keeps working after its name is removed.
	mustWrite(t, f, "2")
	b := make([]byte, 2)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "12" {
		t.Fatalf("read removed file: %q %v", b, err)
	}
	if _, err := m.Stat("/b"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat removed: %v", err)
	}
	if names, _ := m.CrashClone().List("/"); !equal(names, []string{"b"}) {
		t.Fatalf("unsynced remove took effect after crash: %v", names)
	}
}

func TestMemOpenReadOnlyRefusesWrites(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("/a")
	f.Close()
	r, err := m.Open("/a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatal("write to read-only file succeeded")
	}
	if _, err := m.Open("/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open missing: %v", err)
	}
	a, err := m.OpenAppend("/a")
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, a, "xy")
	if got := readAll(t, m, "/a"); !bytes.Equal(got, []byte("xy")) {
		t.Fatalf("got %q", got)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
