package vfs

import (
	"errors"
	"io"
	"path/filepath"
)

// TmpSuffix marks a file being written by ReplaceFile; Open paths delete leftovers.
const TmpSuffix = ".tmp"

// WriteFile creates (or truncates) name with data and fsyncs it. The name itself is
// durable only after SyncDir of its directory.
func WriteFile(fs FS, name string, data []byte) error {
	f, err := fs.Create(name)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// ReplaceFile replaces name with data atomically: it writes name+TmpSuffix with
// WriteFile and renames it over name. A crash leaves either the old or the new file.
// With syncDir, the directory is fsynced too, making the new name durable; callers
// replacing several files in one directory pass false and sync it once.
func ReplaceFile(fs FS, name string, data []byte, syncDir bool) error {
	tmp := name + TmpSuffix
	err := WriteFile(fs, tmp, data)
	if err == nil {
		err = fs.Rename(tmp, name)
	}
	if err != nil {
		_ = fs.Remove(tmp)
		return err
	}
	if syncDir {
		return fs.SyncDir(filepath.Dir(name))
	}
	return nil
}

// ReadFile returns the whole content of name.
func ReadFile(fs FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}
