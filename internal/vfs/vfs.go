// Package vfs is the filesystem seam: every byte Waybill stores goes through FS, so that
// tests can inject errors (a full disk) and simulate power loss (drop what was never
// synced) without touching the code that writes.
//
// Contract: a File is not safe for concurrent Write/Truncate calls; ReadAt may run
// concurrently with Write and with other ReadAt calls. Data written to a File is durable
// only after File.Sync returns nil; a newly created, renamed or removed name is durable
// only after SyncDir of its directory returns nil.
package vfs

import (
	"io"
	"os"
	"path/filepath"
)

// File is an open file.
type File interface {
	io.ReaderAt
	io.Writer // appends at the file's current write position
	io.Closer
	// Sync makes everything written so far durable.
	Sync() error
	// Truncate sets the size; the write position moves to the new end.
	Truncate(size int64) error
	// Size is the current size in bytes.
	Size() (int64, error)
	Name() string
}

// FDFile is implemented by files backed by an operating-system descriptor, which lets the
// fetch path hand file ranges to sendfile(2).
type FDFile interface {
	File
	Fd() uintptr
}

// FS is a filesystem.
type FS interface {
	// Create opens name for reading and appending, creating it or truncating it to zero.
	Create(name string) (File, error)
	// OpenAppend opens name for reading and appending, creating it if needed; the write
	// position starts at the end.
	OpenAppend(name string) (File, error)
	// Open opens name read-only.
	Open(name string) (File, error)
	Remove(name string) error
	RemoveAll(name string) error
	Rename(oldname, newname string) error
	MkdirAll(dir string) error
	// List returns the names (not paths) in dir, sorted.
	List(dir string) ([]string, error)
	// Stat reports whether name exists and its size.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes creations, renames and removals in dir durable.
	SyncDir(dir string) error
}

// Default is the real filesystem.
var Default FS = osFS{}

type osFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.File.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

func (f osFile) Truncate(size int64) error {
	if err := f.File.Truncate(size); err != nil {
		return err
	}
	_, err := f.File.Seek(size, io.SeekStart)
	return err
}

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenAppend(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error              { return os.Remove(name) }
func (osFS) RemoveAll(name string) error           { return os.RemoveAll(name) }
func (osFS) Rename(oldname, newname string) error  { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(dir string) error             { return os.MkdirAll(dir, 0o755) }
func (osFS) Stat(name string) (os.FileInfo, error) { return os.Stat(name) }

func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
