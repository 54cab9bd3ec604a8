package server

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// A Section is record data sent in place of a placeholder. A fetch handler sets a
// partition's Records field to Placeholder and lists the file ranges holding the data;
// kmsg encodes the response around the small placeholder, and the server then writes the
// ranges, with sendfile when they are OS files, where the placeholder was. This keeps
// kmsg as the only encoder while record bytes never pass through user space.
type Section struct {
	Placeholder []byte
	Ranges      []FileRange
}

// FileRange is Len bytes at Pos of File.
type FileRange struct {
	File io.ReaderAt
	Pos  int64
	Len  int64
}

func (s Section) size() int64 {
	var n int64
	for _, r := range s.Ranges {
		n += r.Len
	}
	return n
}

const placeholderSize = 16

var (
	placeholderPrefix [8]byte
	placeholderSeq    atomic.Uint64
)

func init() {
	if _, err := rand.Read(placeholderPrefix[:]); err != nil {
		panic(err)
	}
}

// NewPlaceholder returns bytes unique to this process and call, which cannot occur by
// chance in an encoded response.
func NewPlaceholder() []byte {
	p := make([]byte, placeholderSize)
	copy(p, placeholderPrefix[:])
	binary.BigEndian.PutUint64(p[8:], placeholderSeq.Add(1))
	return p
}

var errPlaceholderMissing = errors.New("server: section placeholder not found in the encoded response")

// piece is a part of a spliced response: bytes in memory or a file range.
type piece struct {
	mem  []byte
	file *FileRange
}

// splice cuts the framed response at each section's placeholder, replacing the
// placeholder and its length prefix with the section's real length and file ranges, and
// fixes the frame's size field. Sections must be in the order kmsg encodes them.
func splice(frame []byte, sections []Section, flexible bool) ([]piece, error) {
	var pieces []piece
	size := int64(len(frame) - 4)
	pos := 4
	for _, s := range sections {
		i := bytes.Index(frame[pos:], s.Placeholder)
		if i < 0 {
			return nil, errPlaceholderMissing
		}
		at := pos + i
		n := s.size()
		var prefix []byte
		var prefixStart int
		if flexible { // compact bytes: uvarint(len+1)
			prefixStart = at - 1
			if prefixStart < pos || frame[prefixStart] != placeholderSize+1 {
				return nil, fmt.Errorf("server: unexpected compact length before placeholder")
			}
			prefix = binary.AppendUvarint(nil, uint64(n+1))
		} else { // int32 length
			prefixStart = at - 4
			if prefixStart < pos || binary.BigEndian.Uint32(frame[prefixStart:]) != placeholderSize {
				return nil, fmt.Errorf("server: unexpected length before placeholder")
			}
			prefix = binary.BigEndian.AppendUint32(nil, uint32(n))
		}
		pieces = append(pieces, piece{mem: frame[pos:prefixStart]}, piece{mem: prefix})
		for k := range s.Ranges {
			pieces = append(pieces, piece{file: &s.Ranges[k]})
		}
		size += int64(len(prefix)) - int64(at+placeholderSize-prefixStart) + n
		pos = at + placeholderSize
	}
	pieces = append(pieces, piece{mem: frame[pos:]})
	binary.BigEndian.PutUint32(frame[:4], uint32(size))
	pieces = append([]piece{{mem: frame[:4]}}, pieces...)
	return pieces, nil
}

// writePieces writes the pieces in order: memory runs with writev, file ranges with
// sendfile when both ends are descriptors, else through a copy.
func writePieces(conn net.Conn, pieces []piece) error {
	var bufs net.Buffers
	flush := func() error {
		if len(bufs) == 0 {
			return nil
		}
		_, err := bufs.WriteTo(conn)
		bufs = bufs[:0]
		return err
	}
	for _, p := range pieces {
		if p.file == nil {
			if len(p.mem) > 0 {
				bufs = append(bufs, p.mem)
			}
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := writeFileRange(conn, p.file); err != nil {
			return err
		}
	}
	return flush()
}

type fder interface{ Fd() uintptr }

func writeFileRange(conn net.Conn, r *FileRange) error {
	if f, ok := r.File.(fder); ok {
		if tcp, ok := conn.(*net.TCPConn); ok {
			return sendfile(tcp, int(f.Fd()), r.Pos, r.Len)
		}
	}
	_, err := io.Copy(conn, io.NewSectionReader(r.File, r.Pos, r.Len))
	return err
}

// sendfile sends n bytes at off of the file descriptor src, with the explicit-offset
// form so that concurrent fetches can share one descriptor.
func sendfile(conn *net.TCPConn, src int, off, n int64) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Write(func(fd uintptr) bool {
		for n > 0 {
			chunk := n
			if chunk > 1<<30 {
				chunk = 1 << 30
			}
			written, e := unix.Sendfile(int(fd), src, &off, int(chunk))
			if written > 0 {
				n -= int64(written)
			}
			switch {
			case e == syscall.EAGAIN:
				return false // wait until the socket is writable
			case e == syscall.EINTR:
				continue
			case e != nil:
				serr = e
				return true
			case written == 0:
				serr = io.ErrUnexpectedEOF // the file is shorter than the range
				return true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return serr
}
