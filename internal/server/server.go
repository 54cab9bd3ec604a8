package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Config configures a Server.
type Config struct {
	// MaxRequestBytes is socket.request.max.bytes: a larger request closes the connection.
	MaxRequestBytes int32
	// MaxInFlight bounds the requests a connection may have decoded but not answered;
	// the reader stops reading past it, which pushes back on the client.
	MaxInFlight int
	Logger      *slog.Logger
}

// DefaultConfig has Kafka's defaults.
func DefaultConfig() Config {
	return Config{MaxRequestBytes: 100 << 20, MaxInFlight: 64, Logger: slog.Default()}
}

// Server serves one listener.
type Server struct {
	cfg     Config
	handler Handler
	ln      net.Listener

	mu       sync.Mutex
	conns    map[*conn]struct{}
	closed   bool
	draining chan struct{} // closed by Shutdown
	wg       sync.WaitGroup
}

// New returns a server for handler; Serve starts it.
func New(cfg Config, handler Handler) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 64
	}
	return &Server{cfg: cfg, handler: handler, conns: make(map[*conn]struct{}), draining: make(chan struct{})}
}

// Listen binds addr.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Attach makes the server accept from ln, a listener bound elsewhere (the controller
// listener's Kafka side), instead of one of its own; call it instead of Listen.
func (s *Server) Attach(ln net.Listener) { s.ln = ln }

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	var delay time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Out of descriptors and the like: back off instead of spinning.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.cfg.Logger.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if tcp, ok := nc.(*net.TCPConn); ok {
			_ = tcp.SetNoDelay(true)
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return nil
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			c.serve()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops accepting, closes every connection and waits for their goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Shutdown stops accepting and lets connections finish the requests they have read for up
// to ctx, then closes them.
func (s *Server) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	select {
	case <-s.draining:
	default:
		close(s.draining)
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.Close()
	}
}

func (s *Server) isDraining() bool {
	select {
	case <-s.draining:
		return true
	default:
		return false
	}
}
