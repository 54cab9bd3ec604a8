package cluster

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

// rpcClient sends controller API requests to one voter's controller listener, Kafka
// frames over the listener's Kafka side, encoded by kmsg. It keeps idle connections for
// reuse and opens another when all are busy, so a slow request (a topic creation that
// waits for its commit) never holds up a heartbeat. Each connection first asks
// ApiVersions, and every request goes at the highest version both sides know.
//
// A general Kafka client would do too much here: it refreshes metadata on its own,
// which the controller listener does not serve.
type rpcClient struct {
	addr     string
	clientID string

	mu   sync.Mutex
	idle []*rpcConn
}

// rpcConn is one connection; one request at a time.
type rpcConn struct {
	conn     net.Conn
	versions map[int16]int16 // the voter's max version per API key
	corr     int32
	format   *kmsg.RequestFormatter
}

// maxRPCResponse bounds a response frame, so that a confused peer cannot make this node
// allocate gigabytes.
const maxRPCResponse = 64 << 20

func (c *rpcClient) request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
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
	c.idle = append(c.idle, rc)
	c.mu.Unlock()
	return resp, nil
}

func (c *rpcClient) take(ctx context.Context) (*rpcConn, error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		rc := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return rc, nil
	}
	c.mu.Unlock()
	timeout := controllerAttemptTimeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(deadline), time.Millisecond)
	}
	conn, err := DialController(c.addr, timeout)
	if err != nil {
		return nil, err
	}
	rc := &rpcConn{conn: conn, format: kmsg.NewRequestFormatter(kmsg.FormatterClientID(c.clientID))}
	hello := kmsg.NewPtrApiVersionsRequest()
	hello.ClientSoftwareName, hello.ClientSoftwareVersion = "waybill-broker", "1"
	versions, err := rc.roundTrip(ctx, hello)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("asking %s for its API versions: %w", c.addr, err)
	}
	rc.versions = map[int16]int16{}
	for _, k := range versions.(*kmsg.ApiVersionsResponse).ApiKeys {
		rc.versions[k.ApiKey] = k.MaxVersion
	}
	return rc, nil
}

// close closes the idle connections; busy ones close when their request ends.
func (c *rpcClient) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rc := range c.idle {
		rc.conn.Close()
	}
	c.idle = nil
}

// roundTrip writes req and reads its response, within ctx's deadline.
func (rc *rpcConn) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	version := req.MaxVersion()
	if rc.versions != nil { // nil only for the ApiVersions handshake itself
		served, ok := rc.versions[req.Key()]
		if !ok {
			return nil, fmt.Errorf("%w: the controller listener does not serve %s", kerr.UnsupportedVersion, kmsg.NameForKey(req.Key()))
		}
		version = min(version, served)
	} else {
		version = 3 // ApiVersions v3: flexible, and served by every Waybill
	}
	req.SetVersion(version)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(controllerAttemptTimeout)
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
	if n < 4 || n > maxRPCResponse {
		return nil, fmt.Errorf("response frame of %d bytes", n)
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(rc.conn, frame); err != nil {
		return nil, err
	}
	return decodeResponse(frame, req, rc.corr)
}

// decodeResponse decodes a response frame (what follows the size) to req, sent with
// correlation id corr. The frame comes from another node: anything malformed is an
// error, never a panic.
func decodeResponse(frame []byte, req kmsg.Request, corr int32) (kmsg.Response, error) {
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
