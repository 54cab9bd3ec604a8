// Package console is Waybill's web console, served on the admin listener of `waybill
// serve` and by `waybill lab ui`. It has three pages:
//
//   - the Delivery Simulator (/): pick delivery and replication settings, send values,
//     inject a fault at a chosen moment (a lost ack, a killed or isolated leader, a slow
//     follower…) and watch each record travel producer → leader → followers → consumer,
//     with a live tally of what was lost, duplicated or reordered;
//   - the guarantee matrix (/matrix): run the lab's quick matrix and read its report;
//   - the cluster (/cluster): the live state of the cluster the console belongs to.
//
// The simulator and the matrix never touch user data. The simulator runs against a
// sandbox, a 3-node in-process Waybill cluster on in-memory disks
// (lab.NewInProcessCluster) started when first needed and closed with the console; the
// matrix against a single in-process broker of its own. The cluster page reads the real
// cluster through Kafka APIs only.
//
// Everything the browser loads is embedded (assets/): plain HTML, CSS and JavaScript,
// no build step and no external resource, so the console works offline. Live updates
// come over one Server-Sent Events stream (/api/events) carrying JSON events.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
)

// Config configures a console.
type Config struct {
	// Bootstrap is the Kafka address (host:port, or several comma-separated) of the
	// cluster the cluster page shows. Empty: the sandbox's.
	Bootstrap string
	// SandboxDir holds the sandbox brokers' metadata; empty: a temporary directory,
	// removed by Close.
	SandboxDir string
	// Logger receives the console's logs (the sandbox brokers log warnings and errors
	// only); nil discards them.
	Logger *slog.Logger
}

// Console is the web console: an http.Handler to mount at "/" of the admin listener.
type Console struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	hub     *hub
	sandbox *sandbox
	sim     *simulator
	matrix  *matrixRunner
	cluster *clusterView

	ctx    context.Context
	cancel context.CancelFunc

	closeOnce sync.Once
	removeDir string // the temporary sandbox directory Close removes
}

// New prepares a console. Nothing is started until a page asks for it.
func New(cfg Config) (*Console, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{cfg: cfg, log: log, hub: newHub()}
	dir := cfg.SandboxDir
	if dir == "" {
		d, err := os.MkdirTemp("", "waybill-console-")
		if err != nil {
			return nil, fmt.Errorf("console: sandbox directory: %w", err)
		}
		dir, c.removeDir = d, d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("console: sandbox directory: %w", err)
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.sandbox = newSandbox(dir, log)
	c.sim = newSimulator(c.ctx, c.sandbox, c.hub, log)
	c.matrix = newMatrixRunner(c.ctx, dir, c.hub, log)
	c.cluster = newClusterView(cfg.Bootstrap, c.sandbox)
	c.mux = c.routes()
	return c, nil
}

// ServeHTTP serves the pages, their assets and the API.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// StartSandbox starts the sandbox cluster now rather than when first needed, and returns
// its nodes' Kafka addresses, comma-separated.
func (c *Console) StartSandbox() (string, error) {
	t, err := c.sandbox.get()
	if err != nil {
		return "", err
	}
	return t.Bootstrap(), nil
}

// Close ends the event streams, stops the simulator and any matrix run, and closes the
// sandbox cluster.
func (c *Console) Close() {
	c.closeOnce.Do(func() {
		c.cancel()
		c.hub.close()
		c.matrix.wait()
		c.sim.close()
		c.cluster.close()
		c.sandbox.close()
		if c.removeDir != "" {
			if err := os.RemoveAll(c.removeDir); err != nil && !errors.Is(err, os.ErrNotExist) {
				c.log.Warn("console: removing the sandbox directory", "dir", c.removeDir, "err", err)
			}
		}
	})
}
