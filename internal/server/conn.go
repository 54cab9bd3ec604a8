package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type conn struct {
	s       *Server
	nc      net.Conn
	info    ConnInfo
	cancel  context.CancelFunc
	pending chan inflight

	closeOnce sync.Once
}

// inflight is a request that was read and started, waiting for its turn to be answered.
type inflight struct {
	correlationID int32
	version       int16
	finish        Pending
	release       func() // returns the request buffer to its pool; nil if not pooled
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{
		s:       s,
		nc:      nc,
		info:    ConnInfo{Remote: nc.RemoteAddr(), Done: ctx, Draining: s.draining},
		cancel:  cancel,
		pending: make(chan inflight, s.cfg.MaxInFlight),
	}
}

func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.readLoop()
	if !c.s.isDraining() {
		// The client left, or sent what closes the connection: nobody will read further
		// answers, so parked requests (long polls, rebalances) stop waiting now.
		c.cancel()
	}
	close(c.pending)
	<-writerDone
	c.close()
}

func (c *conn) close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.nc.Close()
	})
}

// stopReading ends the read loop; requests already read are still answered.
func (c *conn) stopReading() { _ = c.nc.SetReadDeadline(time.Now()) }

func (c *conn) readLoop() {
	log := c.s.cfg.Logger
	var sizeBuf [4]byte
	for {
		if _, err := io.ReadFull(c.nc, sizeBuf[:]); err != nil {
			if !isQuietClose(err) {
				log.Debug("connection read ended", "remote", c.info.Remote, "err", err)
			}
			return
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if size < minHeaderSize || size > c.s.cfg.MaxRequestBytes {
			log.Warn("closing connection: request size outside the header size and socket.request.max.bytes",
				"remote", c.info.Remote, "size", size, "max", c.s.cfg.MaxRequestBytes)
			return
		}
		var key [2]byte
		if _, err := io.ReadFull(c.nc, key[:]); err != nil {
			log.Debug("connection closed mid-request", "remote", c.info.Remote, "err", err)
			return
		}
		// Decoded requests alias the buffer (produce records are never copied on their way
		// to the log). A pooled buffer goes back only after the response is written, and
		// only produce requests get one: their handler keeps nothing from the request.
		var buf []byte
		var release func()
		if int16(binary.BigEndian.Uint16(key[:])) == int16(kmsg.Produce) {
			buf, release = getBuf(int(size))
		} else {
			buf = make([]byte, size)
		}
		copy(buf, key[:])
		if _, err := io.ReadFull(c.nc, buf[2:]); err != nil {
			log.Debug("connection closed mid-request", "remote", c.info.Remote, "err", err)
			return
		}
		h, body, err := parseHeaderPrefix(buf)
		if err != nil {
			log.Warn("closing connection: malformed request header", "remote", c.info.Remote, "err", err)
			return
		}
		if !c.s.handler.Supported(h.key, h.version) {
			if h.key == int16(kmsg.ApiVersions) {
				c.pending <- inflight{correlationID: h.correlationID, finish: c.unsupportedApiVersions()}
				continue
			}
			log.Warn("closing connection: unsupported api key or version",
				"remote", c.info.Remote, "api", kmsg.NameForKey(h.key), "key", h.key, "version", h.version, "client", h.clientID)
			return
		}
		msg, err := decodeBody(h, body)
		if err != nil {
			log.Warn("closing connection: malformed request", "remote", c.info.Remote, "client", h.clientID, "err", err)
			return
		}
		finish := c.s.handler.Handle(&Request{
			Key: h.key, Version: h.version, CorrelationID: h.correlationID,
			ClientID: h.clientID, Msg: msg, Conn: &c.info,
		})
		c.pending <- inflight{correlationID: h.correlationID, version: h.version, finish: finish, release: release}
	}
}

// unsupportedApiVersions is KIP-511's answer to an ApiVersions request newer than we know:
// a v0 response with UNSUPPORTED_VERSION and our ranges, so the client can retry lower.
func (c *conn) unsupportedApiVersions() Pending {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = c.s.handler.ApiVersions()
	return func() Reply { return Reply{Msg: resp} }
}

func (c *conn) writeLoop() {
	var buf []byte
	failed := false
	for inf := range c.pending {
		buf, failed = c.answer(buf, inf, failed)
		if inf.release != nil {
			inf.release()
		}
	}
}

// answer runs one request's Pending and writes its reply, unless the connection has
// already failed; in that case it keeps draining, so the reader never blocks on a full
// queue, and the cancelled context makes the remaining Pendings return promptly. It
// returns the encoding buffer for reuse and whether the connection has failed.
func (c *conn) answer(buf []byte, inf inflight, failed bool) ([]byte, bool) {
	reply := inf.finish()
	if reply.Release != nil {
		defer reply.Release()
	}
	if failed {
		return buf, true
	}
	if reply.Msg == nil {
		if reply.CloseAfter {
			c.close()
		}
		return buf, reply.CloseAfter
	}
	reply.Msg.SetVersion(inf.version) // zero for KIP-511's fallback answer
	buf = appendResponse(buf[:0], inf.correlationID, reply.Msg)
	err := c.write(buf, reply)
	if err != nil && !isQuietClose(err) {
		c.s.cfg.Logger.Debug("connection write failed", "remote", c.info.Remote, "err", err)
	}
	if err != nil || reply.CloseAfter {
		c.close()
		return buf, true
	}
	return buf, false
}

func (c *conn) write(frame []byte, reply Reply) error {
	if len(reply.Sections) == 0 {
		_, err := c.nc.Write(frame)
		return err
	}
	pieces, err := splice(frame, reply.Sections, reply.Msg.IsFlexible())
	if err != nil {
		return err
	}
	return writePieces(c.nc, pieces)
}

func isQuietClose(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded)
}
