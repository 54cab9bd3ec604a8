package log

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/waybill/waybill/internal/vfs"
)

const sideSuffix = ".side"

// concatSidecar merges parts by concatenation.
var concatSidecar = Sidecar{Suffix: sideSuffix, Merge: func(parts [][]byte) ([]byte, error) {
	return bytes.Join(parts, nil), nil
}}

func openWithSidecar(t *testing.T, fs vfs.FS, cfg Config) *Log {
	t.Helper()
	l, err := Open(fs, testDir, cfg, nil, WithSidecar(concatSidecar))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func readSide(t *testing.T, fs vfs.FS, base int64) (string, bool) {
	t.Helper()
	b, err := vfs.ReadFile(fs, SegmentPath(testDir, base, sideSuffix))
	if isNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

// sideNames returns the bases of the sidecar files in the directory.
func sideNames(t *testing.T, fs vfs.FS) []string {
	t.Helper()
	names, err := fs.List(testDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.Contains(n, sideSuffix) {
			out = append(out, n)
		}
	}
	return out
}

// checkSidecarsMatchSegments checks that exactly one sidecar exists per segment.
func checkSidecarsMatchSegments(t *testing.T, fs vfs.FS, l *Log) {
	t.Helper()
	var want []string
	for _, b := range l.SegmentBases() {
		want = append(want, fmt.Sprintf("%020d%s", b, sideSuffix))
	}
	if got := sideNames(t, fs); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("sidecars %v, want %v", got, want)
	}
}

func TestSidecarsFollowSegments(t *testing.T) {
	fs := vfs.NewMem()
	cfg := testConfig(t)
	cfg.SegmentBytes = 1 << 10
	l := openWithSidecar(t, fs, cfg)
	defer func() { l.Close() }()
	checkSidecarsMatchSegments(t, fs, l) // the first segment has one
	appendN(t, l, 40, 2, 100, 1000)
	mustSync(t, l)
	if len(l.SegmentBases()) < 5 {
		t.Fatalf("only %d segments", len(l.SegmentBases()))
	}
	checkSidecarsMatchSegments(t, fs, l) // every roll made one, empty
	for _, b := range l.SegmentBases() {
		if s, ok := readSide(t, fs, b); !ok || s != "" {
			t.Fatalf("new sidecar of %d: %q %v", b, s, ok)
		}
	}

	bases := l.SegmentBases()
	if err := l.DeleteBefore(bases[2]); err != nil {
		t.Fatal(err)
	}
	checkSidecarsMatchSegments(t, fs, l)
	if err := l.Truncate(bases[len(bases)-2] + 1); err != nil {
		t.Fatal(err)
	}
	checkSidecarsMatchSegments(t, fs, l)

	// An orphan goes at Open; a segment's survives.
	orphan, err := fs.Create(SegmentPath(testDir, 1<<40, sideSuffix))
	if err != nil {
		t.Fatal(err)
	}
	orphan.Close()
	l.Close()
	l = openWithSidecar(t, fs, cfg)
	checkSidecarsMatchSegments(t, fs, l)

	// Truncating below the start restarts the log with one fresh sidecar.
	if err := l.Truncate(0); err != nil {
		t.Fatal(err)
	}
	checkSidecarsMatchSegments(t, fs, l)
}

func TestCompactionMergesSidecars(t *testing.T) {
	fs := vfs.NewMem()
	l := openWithSidecar(t, fs, compactConfig(t))
	defer l.Close()
	fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	before := l.SegmentBases()
	tag := func(b int64) string { return fmt.Sprintf("<%d>", b) }
	for _, b := range before {
		f, err := fs.OpenAppend(SegmentPath(testDir, b, sideSuffix))
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(tag(b)))
		f.Close()
	}
	if res := mustCompact(t, l, CompactOptions{}); !res.Compacted {
		t.Fatalf("nothing compacted: %+v", res)
	}
	// The first pass rewrites segments one by one; overwriting the keys again makes
	// the next pass merge the shrunken ones.
	fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	mustCompact(t, l, CompactOptions{})
	after := l.SegmentBases()
	merged := false
	for i, b := range after[:len(after)-1] {
		if j := indexOf(before, b); j >= 0 && j+1 < len(before) && after[i+1] > before[j+1] {
			merged = true
		}
	}
	if !merged {
		t.Fatalf("no segments merged: %v, then %v", before, after)
	}
	checkSidecarsMatchSegments(t, fs, l)
	for i, b := range after {
		next := l.EndOffset() + 1
		if i+1 < len(after) {
			next = after[i+1]
		}
		var want string
		for _, s := range before {
			if s >= b && s < next {
				want += tag(s)
			}
		}
		if got, _ := readSide(t, fs, b); got != want {
			t.Fatalf("sidecar of %d: %q, want %q", b, got, want)
		}
	}
}

func TestCompactionLeavesOutAnUnmergeableSidecar(t *testing.T) {
	fs := vfs.NewMem()
	cfg := compactConfig(t)
	l, err := Open(fs, testDir, cfg, nil, WithSidecar(Sidecar{Suffix: sideSuffix, Merge: func([][]byte) ([]byte, error) {
		return nil, fmt.Errorf("refused")
	}}))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fillKeys(t, l, 30, 10, 1000)
	mustSync(t, l)
	mustCompact(t, l, CompactOptions{})
	bases := l.SegmentBases()
	if _, ok := readSide(t, fs, bases[len(bases)-1]); !ok {
		t.Fatal("the active segment lost its sidecar")
	}
	if _, ok := readSide(t, fs, bases[0]); ok {
		t.Fatal("a compacted segment kept a sidecar its user could not merge")
	}
	for _, n := range sideNames(t, fs) {
		if strings.HasSuffix(n, cleanedSuffix) || strings.HasSuffix(n, swapSuffix) {
			t.Fatalf("left %s", n)
		}
	}
}

func indexOf(s []int64, v int64) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
