package vfs

import (
	"io"
	"testing"
)

func readString(t *testing.T, fs FS, name string) string {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return string(b)
}

// TestReplaceFileSurvivesACrash checks that a power loss after ReplaceFile (directory
// synced) keeps the new contents, and after an unsynced rename keeps the old or the new
// file whole, never a mix or nothing.
func TestReplaceFileSurvivesACrash(t *testing.T) {
	fs := NewMem()
	if err := fs.MkdirAll("/d"); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(fs, "/d/f", []byte("old"), true); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, fs.CrashClone(), "/d/f"); got != "old" {
		t.Fatalf("after a synced replace and a crash: %q", got)
	}
	if err := ReplaceFile(fs, "/d/f", []byte("new contents"), false); err != nil {
		t.Fatal(err)
	}
	if got := readString(t, fs.CrashClone(), "/d/f"); got != "old" && got != "new contents" {
		t.Fatalf("after an unsynced replace and a crash: %q", got)
	}
	if got := readString(t, fs, "/d/f"); got != "new contents" {
		t.Fatalf("without a crash: %q", got)
	}
	if _, err := fs.Stat("/d/f" + TmpSuffix); err == nil {
		t.Fatal("temporary file left behind")
	}
}
