package producers

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/waybill/waybill/internal/vfs"
)

const dir = "/data/topic-0"

func memFS(t *testing.T) *vfs.MemFS {
	t.Helper()
	fsys := vfs.NewMem()
	if err := fsys.MkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	return fsys
}

// sampleState has producers with full and partial caches, a wrapped sequence, an
// ongoing transaction and a marker-only producer.
func sampleState(t *testing.T) *State {
	a := newAppender(t)
	for i := int32(0); i < 7; i++ {
		a.mustProduce(batch(1, 3, i*10, 10))
	}
	a.mustProduce(batch(2, 0, 2147483600, 100))
	a.mustProduce(batch(1<<40, 7, 0, 1))
	a.s.producers[2].txnFirstOffset = 70
	a.s.producers[2].coordinatorEpoch = 4
	a.s.producers[5] = newProducer(9)
	return a.s
}

func TestSnapshotRoundTrip(t *testing.T) {
	fsys := memFS(t)
	want := sampleState(t)
	if err := want.WriteSnapshot(fsys, dir, 171); err != nil {
		t.Fatal(err)
	}
	got, off, err := LoadSnapshot(fsys, dir)
	if err != nil || off != 171 {
		t.Fatalf("LoadSnapshot: offset %d, %v", off, err)
	}
	if !reflect.DeepEqual(got.producers, want.producers) {
		t.Fatalf("state differs after the round trip")
	}
	// The loaded state behaves the same: a retry is a duplicate, the next batch follows.
	if dup, err := got.Check(batch(1, 3, 60, 10)); err != nil || dup == nil || dup.FirstOffset != 60 {
		t.Fatalf("retry after load: %+v, %v", dup, err)
	}
	if dup, err := got.Check(batch(1, 3, 70, 1)); err != nil || dup != nil {
		t.Fatalf("next batch after load: %+v, %v", dup, err)
	}
	// Encoding is deterministic (producers sorted by id).
	if !bytes.Equal(want.encode(171), got.encode(171)) {
		t.Fatal("encoding is not deterministic")
	}
}

func TestSnapshotSurvivesPowerLoss(t *testing.T) {
	fsys := memFS(t)
	if err := sampleState(t).WriteSnapshot(fsys, dir, 5); err != nil {
		t.Fatal(err)
	}
	_, off, err := LoadSnapshot(fsys.CrashClone(), dir)
	if err != nil || off != 5 {
		t.Fatalf("after a crash: offset %d, %v", off, err)
	}
}

func TestSnapshotKeepsTheNewestTwo(t *testing.T) {
	fsys := memFS(t)
	s := sampleState(t)
	for _, off := range []int64{10, 30, 20, 40} {
		if err := s.WriteSnapshot(fsys, dir, off); err != nil {
			t.Fatal(err)
		}
	}
	// A temporary file left by a crash mid-write is cleaned up by the next write.
	if _, err := fsys.Create(filepath.Join(dir, SnapshotName(50)+tmpSuffix)); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteSnapshot(fsys, dir, 45); err != nil {
		t.Fatal(err)
	}
	names, _ := fsys.List(dir)
	want := []string{SnapshotName(40), SnapshotName(45)}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
}

func TestLoadSkipsDamagedSnapshots(t *testing.T) {
	fsys := memFS(t)
	older := NewState()
	h := batch(1, 0, 0, 1)
	older.Update(h, 1)
	if err := older.WriteSnapshot(fsys, dir, 1); err != nil {
		t.Fatal(err)
	}
	if err := sampleState(t).WriteSnapshot(fsys, dir, 171); err != nil {
		t.Fatal(err)
	}
	corruptFile(t, fsys, filepath.Join(dir, SnapshotName(171)), func(b []byte) []byte { b[40] ^= 0xff; return b })

	s, off, err := LoadSnapshot(fsys, dir)
	if err != nil || off != 1 || s.Len() != 1 {
		t.Fatalf("fell back to offset %d with %d producers: %v", off, s.Len(), err)
	}
	if names, _ := fsys.List(dir); len(names) != 1 {
		t.Fatalf("damaged snapshot not deleted: %v", names)
	}
	corruptFile(t, fsys, filepath.Join(dir, SnapshotName(1)), func(b []byte) []byte { return b[:10] })
	s, off, err = LoadSnapshot(fsys, dir)
	if err != nil || off != 0 || s.Len() != 0 {
		t.Fatalf("with no valid snapshot: offset %d, %d producers, %v", off, s.Len(), err)
	}
}

func TestLoadWithoutDirectory(t *testing.T) {
	s, off, err := LoadSnapshot(vfs.NewMem(), "/nowhere")
	if err != nil || off != 0 || s.Len() != 0 {
		t.Fatalf("LoadSnapshot: %d, %v", off, err)
	}
}

func TestDecodeDamage(t *testing.T) {
	good := sampleState(t).encode(171)
	resum := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[crcOffset:], crc32.Checksum(b[crcOffset+4:], crc32c))
		return b
	}
	edit := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrSnapshotTruncated},
		{"header only half", good[:10], ErrSnapshotTruncated},
		{"bad magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), ErrSnapshotVersion},
		{"future version", edit(func(b []byte) []byte { b[5] = 2; return b }), ErrSnapshotVersion},
		{"bit flip", edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), ErrSnapshotChecksum},
		{"torn tail", good[:len(good)-8], ErrSnapshotChecksum},
		{"torn tail with matching crc", edit(func(b []byte) []byte { return resum(b[:len(b)-8]) }), ErrSnapshotTruncated},
		{"offset differs from the name", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[10:], 170)
			return resum(b)
		}), ErrSnapshotMalformed},
		{"count too high", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[18:], 1000)
			return resum(b)
		}), ErrSnapshotTruncated},
		{"trailing bytes", edit(func(b []byte) []byte { return resum(append(b, 0)) }), ErrSnapshotMalformed},
		{"six cached batches", edit(func(b []byte) []byte {
			b[fileHeaderSize+producerFixed-1] = 6
			return resum(b)
		}), ErrSnapshotMalformed},
	} {
		if _, err := decode(tc.b, 171); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDeleteSnapshotsAbove(t *testing.T) {
	fsys := memFS(t)
	s := sampleState(t)
	for _, off := range []int64{10, 20} {
		if err := s.WriteSnapshot(fsys, dir, off); err != nil {
			t.Fatal(err)
		}
	}
	if err := DeleteSnapshotsAbove(fsys, dir, 15); err != nil {
		t.Fatal(err)
	}
	// The deletion is durable: a power loss does not bring offset 20 back.
	_, off, err := LoadSnapshot(fsys.CrashClone(), dir)
	if err != nil || off != 10 {
		t.Fatalf("after truncation and a crash: offset %d, %v", off, err)
	}
	if err := DeleteSnapshotsAbove(fsys, dir, 10); err != nil {
		t.Fatal(err)
	}
	if names, _ := fsys.List(dir); len(names) != 1 {
		t.Fatalf("files %v", names)
	}
}

func TestWriteSnapshotReportsIOErrors(t *testing.T) {
	for _, kind := range []vfs.OpKind{vfs.OpSync, vfs.OpRename, vfs.OpSyncDir} {
		t.Run(fmt.Sprint(kind), func(t *testing.T) {
			fsys := vfs.WithErrors(memFS(t), vfs.OnOp(kind, errors.New("injected")))
			if err := sampleState(t).WriteSnapshot(fsys, dir, 1); err == nil {
				t.Fatal("WriteSnapshot hid an I/O error")
			}
		})
	}
}

func corruptFile(t *testing.T, fsys vfs.FS, name string, edit func([]byte) []byte) {
	t.Helper()
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	size, _ := f.Size()
	b := make([]byte, size)
	f.ReadAt(b, 0)
	f.Close()
	w, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(edit(b))
	w.Sync()
	w.Close()
}
