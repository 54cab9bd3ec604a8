// Package testbroker starts real Waybill brokers for tests: in-process on a 127.0.0.1
// port with a temporary data directory, restartable on the same directory.
package testbroker

import (
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/waybill/waybill/internal/broker"
	"github.com/waybill/waybill/internal/config"
	"github.com/waybill/waybill/internal/vfs"
)

// Broker is a running test broker.
type Broker struct {
	t   testing.TB
	cfg broker.Config
	*broker.Broker
	running bool // started and not stopped since
}

// Option adjusts the broker config before start.
type Option func(*broker.Config)

// WithBrokerConfig sets broker configs by their Kafka names.
func WithBrokerConfig(values map[string]string) Option {
	return func(c *broker.Config) {
		merged := c.Broker.Explicit()
		for k, v := range values {
			merged[k] = v
		}
		bc, err := config.ParseBroker(merged)
		if err != nil {
			panic(err)
		}
		c.Broker = bc
	}
}

// WithDataDir uses dir instead of a fresh temporary directory.
func WithDataDir(dir string) Option { return func(c *broker.Config) { c.DataDir = dir } }

// Start starts a broker and stops it when the test ends. Group rebalances start without
// Kafka's initial delay, so tests do not wait for it.
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	tb := prepare(t, opts...)
	tb.start()
	t.Cleanup(func() { tb.Broker.Close() })
	return tb
}

// prepare builds a broker's config: a fresh data directory, a free port, opts applied.
func prepare(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	bc, err := config.ParseBroker(map[string]string{"group.initial.rebalance.delay.ms": "0"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := broker.Config{
		NodeID:  1,
		DataDir: t.TempDir(),
		Listen:  "127.0.0.1:0",
		Broker:  bc,
		Logger:  logger(),
	}
	for _, o := range opts {
		o(&cfg)
	}
	return &Broker{t: t, cfg: cfg}
}

func (tb *Broker) start() {
	tb.t.Helper()
	if err := tb.startErr(); err != nil {
		tb.t.Fatalf("starting broker: %v", err)
	}
}

// startErr starts the broker; safe to call from another goroutine than the test's.
func (tb *Broker) startErr() error {
	b, err := broker.Start(tb.cfg)
	if err != nil {
		return err
	}
	tb.Broker, tb.running = b, true
	// Later starts keep the ports, so clients and the other nodes reconnect to the same
	// addresses. A controller listener bound by the caller was handed over and is closed
	// with the broker: later starts bind its address again.
	tb.cfg.Listen = b.Addr().String()
	if tb.cfg.Controller != nil {
		tb.cfg.ControllerListen = tb.cfg.Controller.Addr().String()
		tb.cfg.Controller = nil
	}
	return nil
}

// Addr is the Kafka listener, host:port.
func (tb *Broker) Addr() string { return tb.Broker.Addr().String() }

// Restart closes the broker cleanly and starts it again on the same directory and port.
func (tb *Broker) Restart() {
	tb.t.Helper()
	tb.Broker.Close()
	tb.start()
}

func logger() *slog.Logger {
	if os.Getenv("WAYBILL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// WithFS stores partition data through fs (fault injection).
func WithFS(fs vfs.FS) Option { return func(c *broker.Config) { c.FS = fs } }

// Stop closes the broker; Start it again with StartAgain, optionally changing options.
func (tb *Broker) Stop() {
	tb.running = false
	tb.Broker.Close()
}

// Running reports whether the broker was started and not stopped since.
func (tb *Broker) Running() bool { return tb.running }

// StartAgain starts a stopped broker on the same directory and port, after applying opts.
func (tb *Broker) StartAgain(opts ...Option) {
	tb.t.Helper()
	for _, o := range opts {
		o(&tb.cfg)
	}
	tb.start()
}

// WithMaintenanceInterval runs retention and producer expiry every d.
func WithMaintenanceInterval(d time.Duration) Option {
	return func(c *broker.Config) { c.MaintenanceInterval = d }
}

// DataDir is the broker's data directory.
func (tb *Broker) DataDir() string { return tb.cfg.DataDir }
