package vfs

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// ErrInjected marks every error an Injector produces; test with errors.Is. Errors built
// with NoSpace also match syscall.ENOSPC.
var ErrInjected = errors.New("vfs: injected error")

// OpKind names a filesystem operation an Injector can fail.
type OpKind int

const (
	OpCreate OpKind = iota
	OpOpen          // Open and OpenAppend
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpRemove // Remove and RemoveAll
	OpRename
	OpMkdir
	OpList
	OpStat
	OpSyncDir
	OpClose
)

var opNames = [...]string{"create", "open", "read", "write", "sync", "truncate", "remove",
	"rename", "mkdir", "list", "stat", "syncdir", "close"}

func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("op(%d)", int(k))
}

// Op describes one operation about to run.
type Op struct {
	Kind OpKind
	Path string
	Len  int // bytes, for OpWrite
}

// Injector decides whether an operation fails. It is consulted before the operation runs;
// a non-nil error fails it without touching the underlying FS, except that a *ShortWrite
// lets a Write through partly. Injectors must be safe for concurrent use.
type Injector interface {
	MaybeError(op Op) error
}

// ShortWrite, returned by an Injector for an OpWrite, writes the first N bytes and then
// fails with Err, as a disk filling up mid-write does.
type ShortWrite struct {
	N   int
	Err error
}

func (e *ShortWrite) Error() string { return fmt.Sprintf("short write (%d bytes): %v", e.N, e.Err) }
func (e *ShortWrite) Unwrap() error { return e.Err }

// InjectedError is the error injectors return: it matches ErrInjected and Cause.
type InjectedError struct {
	Op    Op
	Cause error
}

func (e *InjectedError) Error() string {
	return fmt.Sprintf("injected %s %s: %v", e.Op.Kind, e.Op.Path, e.Cause)
}

// Is matches ErrInjected.
func (e *InjectedError) Is(target error) bool { return target == ErrInjected }

func (e *InjectedError) Unwrap() error { return e.Cause }

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op) error

// MaybeError implements Injector.
func (f InjectorFunc) MaybeError(op Op) error { return f(op) }

// OnOp fails every operation of the given kind with cause.
func OnOp(kind OpKind, cause error) Injector {
	return Matching(func(op Op) bool { return op.Kind == kind }, cause)
}

// Matching fails every operation pred accepts with cause.
func Matching(pred func(Op) bool, cause error) Injector {
	return InjectorFunc(func(op Op) error {
		if pred(op) {
			return &InjectedError{Op: op, Cause: cause}
		}
		return nil
	})
}

// Any consults injectors in order and returns the first error.
func Any(injectors ...Injector) Injector {
	return InjectorFunc(func(op Op) error {
		for _, in := range injectors {
			if err := in.MaybeError(op); err != nil {
				return err
			}
		}
		return nil
	})
}

// AfterN lets the first n operations that inner would fail through, then delegates.
// Counting makes it deterministic for a deterministic sequence of operations.
func AfterN(n int64, inner Injector) Injector {
	var seen atomic.Int64
	return InjectorFunc(func(op Op) error {
		err := inner.MaybeError(op)
		if err == nil {
			return nil
		}
		if seen.Add(1) <= n {
			return nil
		}
		return err
	})
}

// Switch turns an injector on and off at run time; it starts off.
type Switch struct {
	on    atomic.Bool
	inner Injector
}

// NewSwitch returns a Switch around inner, initially off.
func NewSwitch(inner Injector) *Switch { return &Switch{inner: inner} }

// On enables the injector.
func (s *Switch) On() { s.on.Store(true) }

// Off disables the injector.
func (s *Switch) Off() { s.on.Store(false) }

// MaybeError implements Injector.
func (s *Switch) MaybeError(op Op) error {
	if !s.on.Load() {
		return nil
	}
	return s.inner.MaybeError(op)
}

// NoSpace simulates a disk with room for limit more bytes: writes succeed until the
// budget runs out, the write that crosses it is cut short, and later writes fail, all
// with syscall.ENOSPC. Set SyncToo to also fail Sync once the disk is full (delayed
// allocation on some filesystems reports ENOSPC only at fsync).
type NoSpace struct {
	mu      sync.Mutex
	left    int64
	full    bool
	SyncToo bool
}

// NewNoSpace returns a NoSpace with room for limit bytes.
func NewNoSpace(limit int64) *NoSpace { return &NoSpace{left: limit} }

// Free adds n bytes of room, as deleting files would.
func (s *NoSpace) Free(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.left += n
	s.full = s.left <= 0
}

// MaybeError implements Injector.
func (s *NoSpace) MaybeError(op Op) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op.Kind {
	case OpWrite:
		if int64(op.Len) <= s.left {
			s.left -= int64(op.Len)
			return nil
		}
		n := s.left
		s.left, s.full = 0, true
		return &ShortWrite{N: int(n), Err: &InjectedError{Op: op, Cause: syscall.ENOSPC}}
	case OpSync:
		if s.SyncToo && s.full {
			return &InjectedError{Op: op, Cause: syscall.ENOSPC}
		}
	}
	return nil
}

// ErrorFS wraps an FS and consults an Injector before each operation.
type ErrorFS struct {
	fs  FS
	inj Injector
}

// WithErrors wraps fs so that inj can fail its operations.
func WithErrors(fs FS, inj Injector) *ErrorFS { return &ErrorFS{fs: fs, inj: inj} }

var _ FS = (*ErrorFS)(nil)

func (e *ErrorFS) check(kind OpKind, path string) error {
	return e.inj.MaybeError(Op{Kind: kind, Path: path})
}

func (e *ErrorFS) wrap(f File, err error) (File, error) {
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, inj: e.inj}, nil
}

// Create implements FS.
func (e *ErrorFS) Create(name string) (File, error) {
	if err := e.check(OpCreate, name); err != nil {
		return nil, err
	}
	return e.wrap(e.fs.Create(name))
}

// OpenAppend implements FS.
func (e *ErrorFS) OpenAppend(name string) (File, error) {
	if err := e.check(OpOpen, name); err != nil {
		return nil, err
	}
	return e.wrap(e.fs.OpenAppend(name))
}

// Open implements FS.
func (e *ErrorFS) Open(name string) (File, error) {
	if err := e.check(OpOpen, name); err != nil {
		return nil, err
	}
	return e.wrap(e.fs.Open(name))
}

// Remove implements FS.
func (e *ErrorFS) Remove(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.fs.Remove(name)
}

// RemoveAll implements FS.
func (e *ErrorFS) RemoveAll(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.fs.RemoveAll(name)
}

// Rename implements FS.
func (e *ErrorFS) Rename(oldname, newname string) error {
	if err := e.check(OpRename, oldname); err != nil {
		return err
	}
	return e.fs.Rename(oldname, newname)
}

// MkdirAll implements FS.
func (e *ErrorFS) MkdirAll(dir string) error {
	if err := e.check(OpMkdir, dir); err != nil {
		return err
	}
	return e.fs.MkdirAll(dir)
}

// List implements FS.
func (e *ErrorFS) List(dir string) ([]string, error) {
	if err := e.check(OpList, dir); err != nil {
		return nil, err
	}
	return e.fs.List(dir)
}

// Stat implements FS.
func (e *ErrorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.check(OpStat, name); err != nil {
		return nil, err
	}
	return e.fs.Stat(name)
}

// SyncDir implements FS.
func (e *ErrorFS) SyncDir(dir string) error {
	if err := e.check(OpSyncDir, dir); err != nil {
		return err
	}
	return e.fs.SyncDir(dir)
}

// errorFile consults the injector before each file operation. It does not implement
// FDFile, so code under test takes its portable path.
type errorFile struct {
	File
	inj Injector
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.inj.MaybeError(Op{Kind: OpRead, Path: f.Name(), Len: len(p)}); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errorFile) Write(p []byte) (int, error) {
	err := f.inj.MaybeError(Op{Kind: OpWrite, Path: f.Name(), Len: len(p)})
	if err == nil {
		return f.File.Write(p)
	}
	var sw *ShortWrite
	if errors.As(err, &sw) {
		n := min(max(sw.N, 0), len(p))
		if n > 0 {
			if w, werr := f.File.Write(p[:n]); werr != nil {
				return w, werr
			}
		}
		return n, sw.Err
	}
	return 0, err
}

func (f *errorFile) Sync() error {
	if err := f.inj.MaybeError(Op{Kind: OpSync, Path: f.Name()}); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.inj.MaybeError(Op{Kind: OpTruncate, Path: f.Name()}); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f *errorFile) Close() error {
	if err := f.inj.MaybeError(Op{Kind: OpClose, Path: f.Name()}); err != nil {
		f.File.Close() // never leak the descriptor, even when failing the call
		return err
	}
	return f.File.Close()
}
