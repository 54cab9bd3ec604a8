// Package peer is the small Kafka client one Waybill node uses to call another: the
// controller APIs (BrokerRegistration, BrokerHeartbeat, AlterPartition, ...) on a voter's
// controller listener, and Fetch, WriteTxnMarkers and the like on a broker's Kafka
// listener. Requests are kmsg's; the client keeps idle connections for reuse and opens
// another when all are busy, so a slow request (a topic creation that waits for its
// commit, a follower's long-polling fetch) never holds up another. Each connection first
// asks ApiVersions, and every request goes at the highest version both sides know.
//
// A general Kafka client would do too much here: it refreshes metadata on its own, which
// the controller listener does not serve, and routes by partition, where a node always
// knows which peer it means.
package peer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client sends requests to one peer address.
type Client struct {
	addr     string
	clientID string
	dial     DialFunc

	mu     sync.Mutex
	idle   []*conn
	closed bool
}

// DialFunc opens a connection to addr within timeout.
type DialFunc func(addr string, timeout time.Duration) (net.Conn, error)

// DialTCP dials a Kafka listener.
func DialTCP(addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetNoDelay(true)
	}
	return c, nil
}

// DefaultTimeout bounds a request whose context has no deadline.
const DefaultTimeout = 2 * time.Second

// New returns a client for addr that names itself clientID and dials with dial (DialTCP
// for a Kafka listener).
func New(addr, clientID string, dial DialFunc) *Client {
	return &Client{addr: addr, clientID: clientID, dial: dial}
}

// Addr is the peer's address.
func (c *Client) Addr() string { return c.addr }

// conn is one connection; one request at a time.
type conn struct {
	conn     net.Conn
	versions map[int16]int16 // the voter's max version per API key
	corr     int32
	format   *kmsg.RequestFormatter
}

// maxResponse bounds a response frame, so that a confused peer cannot make this node
// allocate gigabytes. Fetch responses are bounded by their request's max bytes, far
// below.
const maxResponse = 256 << 20

// Request sends req and returns its response, within ctx. An error leaves the
// connection closed, so the next request starts on a clean one.
func (c *Client) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	rc, err := c.take(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := rc.roundTrip(ctx, req)
	if err != nil {
		rc.conn.Close() // its state is unknown now
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		rc.conn.Close()
	} else {
		c.idle = append(c.idle, rc)
	}
	c.mu.Unlock()
	return resp, nil
}

func (c *Client) take(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		rc := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return rc, nil
	}
	c.mu.Unlock()
	timeout := DefaultTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(deadline), time.Millisecond)
	}
	nc, err := c.dial(c.addr, timeout)
	if err != nil {
		return nil, err
	}
	rc := &conn{conn: nc, format: kmsg.NewRequestFormatter(kmsg.FormatterClientID(c.clientID))}
	hello := kmsg.NewPtrApiVersionsRequest()
	hello.ClientSoftwareName, hello.ClientSoftwareVersion = "waybill-broker", "1"
	versions, err := rc.roundTrip(ctx, hello)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("asking %s for its API versions: %w", c.addr, err)
	}
	rc.versions = map[int16]int16{}
	for _, k := range versions.(*kmsg.ApiVersionsResponse).ApiKeys {
		rc.versions[k.ApiKey] = k.MaxVersion
	}
	return rc, nil
}

// Close closes the idle connections; busy ones close when their request ends.
func (c *Client) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, rc := range c.idle {
		rc.conn.Close()
	}
	c.idle = nil
}

// roundTrip writes req and reads its response, within ctx's deadline.
func (rc *conn) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	version := req.MaxVersion()
	if rc.versions != nil { // nil only for the ApiVersions handshake itself
		served, ok := rc.versions[req.Key()]
		if !ok {
			return nil, fmt.Errorf("%w: %s does not serve %s", kerr.UnsupportedVersion, rc.conn.RemoteAddr(), kmsg.NameForKey(req.Key()))
		}
		version = min(version, served)
	} else {
		version = 3 // ApiVersions v3: flexible, and served by every Waybill
	}
	req.SetVersion(version)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	_ = rc.conn.SetDeadline(deadline)
	rc.corr++
	if _, err := rc.conn.Write(rc.format.AppendRequest(nil, req, rc.corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(rc.conn, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > maxResponse {
		return nil, fmt.Errorf("response frame of %d bytes", n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(rc.conn, frame); err != nil {
		return nil, err
	}
	return DecodeResponse(frame, req, rc.corr)
}

// DecodeResponse decodes a response frame (what follows the size) to req, sent with
// correlation id corr. The frame comes from another node: anything malformed is an
// error, never a panic.
func DecodeResponse(frame []byte, req kmsg.Request, corr int32) (kmsg.Response, error) {
	if len(frame) < 4 {
		return nil, fmt.Errorf("response frame of %d bytes", len(frame))
	}
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		return nil, fmt.Errorf("response to request %d, expected %d", got, corr)
	}
	body := frame[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != int16(kmsg.ApiVersions) {
		// A flexible response header ends with its tagged fields; Waybill sends none.
		if len(body) == 0 || body[0] != 0 {
			return nil, errors.New("response header with tagged fields")
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s response: %w", kmsg.NameForKey(req.Key()), err)
	}
	return resp, nil
}
