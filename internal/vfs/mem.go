package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory FS that remembers what was made durable, so that tests can
// simulate a power loss with CrashClone.
//
// Durability model (the same as vfs's contract):
//   - a file's contents are durable up to the state at its last File.Sync;
//   - a name (create, rename, remove) is durable after SyncDir of its directory;
//   - directories are durable as soon as MkdirAll creates them (a simplification: the
//     real OS needs a SyncDir of the parent too).
//
// As in POSIX, an open File keeps working after its name is removed or renamed.
// MemFS is safe for concurrent use.
type MemFS struct {
	mu sync.Mutex
	// live is what the running program sees: directory path → name → node.
	live map[string]map[string]*memNode
	// durable is what survives a crash: directory path → name → node, as of each
	// directory's last SyncDir.
	durable map[string]map[string]*memNode
}

// memNode is one file's contents (an inode).
type memNode struct {
	mu   sync.Mutex
	data []byte
	// synced is the content at the last Sync. It may alias a prefix of data: File only
	// appends and truncates, so bytes below len(synced) change only through Truncate,
	// which copies synced before cutting below it.
	synced  []byte
	modTime time.Time
}

// NewMem returns an empty in-memory filesystem with only the root directory "/".
func NewMem() *MemFS {
	m := &MemFS{
		live:    map[string]map[string]*memNode{},
		durable: map[string]map[string]*memNode{},
	}
	m.live["/"] = map[string]*memNode{}
	m.durable["/"] = map[string]*memNode{}
	return m
}

var _ FS = (*MemFS)(nil)

// CrashClone returns a new MemFS holding only what a power loss at this instant would
// leave: each directory's names as of its last SyncDir, each file's contents as of its
// last Sync. The receiver is unchanged, so goroutines still using it cannot disturb the
// clone.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	copied := map[*memNode]*memNode{} // hard links (a rename not yet synced) stay shared
	for dir, names := range m.durable {
		c.live[dir] = map[string]*memNode{}
		c.durable[dir] = map[string]*memNode{}
		for name, n := range names {
			cn, ok := copied[n]
			if !ok {
				n.mu.Lock()
				data := append([]byte(nil), n.synced...)
				cn = &memNode{data: data, synced: data[:len(data):len(data)], modTime: n.modTime}
				n.mu.Unlock()
				copied[n] = cn
			}
			c.live[dir][name] = cn
			c.durable[dir][name] = cn
		}
	}
	return c
}

// Clone returns a new MemFS holding everything written so far, synced or not: what a
// process crash leaves behind, since the kernel's page cache outlives the process. The
// clone keeps the durability state too (which names and bytes were synced), so a power
// loss after the process crash (CrashClone of the clone) still loses what was never
// synced. The receiver is unchanged, and goroutines still writing to it (the crashed
// process's last gasps) cannot disturb the clone.
func (m *MemFS) Clone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	copied := map[*memNode]*memNode{} // a node under two names (or live and durable) stays one
	clone := func(n *memNode) *memNode {
		if cn, ok := copied[n]; ok {
			return cn
		}
		n.mu.Lock()
		data := append([]byte(nil), n.data...)
		var synced []byte
		if len(n.synced) > 0 && len(n.data) >= len(n.synced) && &n.synced[0] == &n.data[0] {
			synced = data[:len(n.synced):len(n.synced)] // aliased in the original: alias here too
		} else {
			synced = append([]byte(nil), n.synced...)
		}
		cn := &memNode{data: data, synced: synced, modTime: n.modTime}
		n.mu.Unlock()
		copied[n] = cn
		return cn
	}
	copyDirs := func(from, to map[string]map[string]*memNode) {
		for dir, names := range from {
			cd := make(map[string]*memNode, len(names))
			for name, n := range names {
				cd[name] = clone(n)
			}
			to[dir] = cd
		}
	}
	copyDirs(m.live, c.live)
	copyDirs(m.durable, c.durable)
	return c
}

func splitPath(name string) (dir, base string) {
	name = filepath.Clean("/" + name)
	return filepath.Dir(name), filepath.Base(name)
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

// lookupLocked returns the node of an existing file. m.mu must be held.
func (m *MemFS) lookupLocked(name string) (*memNode, error) {
	dir, base := splitPath(name)
	names, ok := m.live[dir]
	if !ok {
		return nil, os.ErrNotExist
	}
	n, ok := names[base]
	if !ok {
		return nil, os.ErrNotExist
	}
	return n, nil
}

func (m *MemFS) openFile(op, name string, create, truncate bool) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base := splitPath(name)
	if _, isDir := m.live[filepath.Join(dir, base)]; isDir {
		return nil, pathErr(op, name, errors.New("is a directory"))
	}
	n, err := m.lookupLocked(name)
	if err != nil {
		if !create {
			return nil, pathErr(op, name, err)
		}
		names, ok := m.live[dir]
		if !ok {
			return nil, pathErr(op, name, os.ErrNotExist)
		}
		n = &memNode{modTime: time.Now()}
		names[base] = n
	}
	if truncate {
		n.truncate(0)
	}
	return &memFile{node: n, name: name}, nil
}

// Create implements FS.
func (m *MemFS) Create(name string) (File, error) { return m.openFile("create", name, true, true) }

// OpenAppend implements FS.
func (m *MemFS) OpenAppend(name string) (File, error) {
	return m.openFile("open", name, true, false)
}

// Open implements FS. The returned file refuses writes.
func (m *MemFS) Open(name string) (File, error) {
	f, err := m.openFile("open", name, false, false)
	if err != nil {
		return nil, err
	}
	f.(*memFile).readOnly = true
	return f, nil
}

// Remove implements FS.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base := splitPath(name)
	full := filepath.Join(dir, base)
	if names, isDir := m.live[full]; isDir {
		if len(names) > 0 {
			return pathErr("remove", name, errors.New("directory not empty"))
		}
		delete(m.live, full)
		delete(m.durable, full)
		return nil
	}
	if _, err := m.lookupLocked(name); err != nil {
		return pathErr("remove", name, err)
	}
	delete(m.live[dir], base)
	return nil
}

// RemoveAll implements FS. Removing a directory is durable at once (see MemFS).
func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base := splitPath(name)
	full := filepath.Join(dir, base)
	if _, isDir := m.live[full]; !isDir {
		if names, ok := m.live[dir]; ok {
			delete(names, base)
		}
		return nil
	}
	for d := range m.live {
		if d == full || strings.HasPrefix(d, full+"/") {
			delete(m.live, d)
			delete(m.durable, d)
		}
	}
	return nil
}

// Rename implements FS.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookupLocked(oldname)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	ndir, nbase := splitPath(newname)
	names, ok := m.live[ndir]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: os.ErrNotExist}
	}
	odir, obase := splitPath(oldname)
	delete(m.live[odir], obase)
	names[nbase] = n
	return nil
}

// MkdirAll implements FS.
func (m *MemFS) MkdirAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean("/" + dir)
	for d := dir; ; d = filepath.Dir(d) {
		if _, ok := m.live[d]; !ok {
			parent, base := splitPath(d)
			if names, ok := m.live[parent]; ok {
				if _, isFile := names[base]; isFile {
					return pathErr("mkdir", d, errors.New("not a directory"))
				}
			}
			m.live[d] = map[string]*memNode{}
			m.durable[d] = map[string]*memNode{}
		}
		if d == "/" {
			return nil
		}
	}
}

// List implements FS: the names of files and subdirectories of dir, sorted.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean("/" + dir)
	names, ok := m.live[dir]
	if !ok {
		return nil, pathErr("readdir", dir, os.ErrNotExist)
	}
	out := make([]string, 0, len(names))
	for name := range names {
		out = append(out, name)
	}
	for d := range m.live {
		if d != "/" && filepath.Dir(d) == dir {
			out = append(out, filepath.Base(d))
		}
	}
	sort.Strings(out)
	return out, nil
}

// Stat implements FS.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	full := filepath.Clean("/" + name)
	if _, isDir := m.live[full]; isDir {
		return memInfo{name: filepath.Base(full), dir: true}, nil
	}
	n, err := m.lookupLocked(name)
	if err != nil {
		return nil, pathErr("stat", name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return memInfo{name: filepath.Base(full), size: int64(len(n.data)), modTime: n.modTime}, nil
}

// SyncDir implements FS: the current names in dir become the durable ones.
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean("/" + dir)
	names, ok := m.live[dir]
	if !ok {
		return pathErr("sync", dir, os.ErrNotExist)
	}
	d := make(map[string]*memNode, len(names))
	for k, v := range names {
		d[k] = v
	}
	m.durable[dir] = d
	return nil
}

func (n *memNode) truncate(size int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if size < int64(len(n.synced)) && len(n.synced) > 0 && len(n.data) > 0 && &n.synced[0] == &n.data[0] {
		n.synced = append([]byte(nil), n.synced...) // stop aliasing before bytes change
	}
	if size <= int64(len(n.data)) {
		n.data = n.data[:size]
	} else {
		n.data = append(n.data, make([]byte, size-int64(len(n.data)))...)
	}
	n.modTime = time.Now()
}

// memFile is an open handle on a memNode.
type memFile struct {
	node     *memNode
	name     string
	readOnly bool
	mu       sync.Mutex
	closed   bool
}

var errClosed = errors.New("vfs: file already closed")

func (f *memFile) check(op string, write bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pathErr(op, f.name, errClosed)
	}
	if write && f.readOnly {
		return pathErr(op, f.name, os.ErrPermission)
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, pathErr("read", f.name, errors.New("negative offset"))
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if off >= int64(len(n.data)) {
		return 0, io.EOF
	}
	c := copy(p, n.data[off:])
	if c < len(p) {
		return c, io.EOF
	}
	return c, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	n.data = append(n.data, p...)
	n.modTime = time.Now()
	return len(p), nil
}

func (f *memFile) Sync() error {
	if err := f.check("sync", false); err != nil {
		return err
	}
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	n.synced = n.data[:len(n.data):len(n.data)]
	return nil
}

func (f *memFile) Truncate(size int64) error {
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return pathErr("truncate", f.name, errors.New("negative size"))
	}
	f.node.truncate(size)
	return nil
}

func (f *memFile) Size() (int64, error) {
	if err := f.check("stat", false); err != nil {
		return 0, err
	}
	f.node.mu.Lock()
	defer f.node.mu.Unlock()
	return int64(len(f.node.data)), nil
}

func (f *memFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pathErr("close", f.name, errClosed)
	}
	f.closed = true
	return nil
}

func (f *memFile) Name() string { return f.name }

type memInfo struct {
	name    string
	size    int64
	modTime time.Time
	dir     bool
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return i.modTime }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
