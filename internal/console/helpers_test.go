package console

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// startConsole serves a console with its own sandbox on an httptest server; both stop
// when the test ends.
func startConsole(t *testing.T, cfg Config) (*Console, *httptest.Server) {
	t.Helper()
	if cfg.SandboxDir == "" {
		cfg.SandboxDir = t.TempDir()
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(func() {
		c.Close() // first: it ends the event streams the server would wait for
		srv.Close()
	})
	return c, srv
}

// post sends body as JSON and decodes the answer into out (if not nil), failing the test
// unless the status is want.
func post(t *testing.T, url string, body, out any, want int) {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	decodeAnswer(t, "POST "+url, resp, out, want)
}

func get(t *testing.T, url string, out any, want int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	decodeAnswer(t, "GET "+url, resp, out, want)
}

func decodeAnswer(t *testing.T, what string, resp *http.Response, out any, want int) {
	t.Helper()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s: status %d, want %d: %s", what, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decoding %s: %v", what, raw, err)
		}
	}
}

// stream reads the console's event stream until the test ends.
type stream struct {
	t      *testing.T
	events chan Event
}

func openStream(t *testing.T, base string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		cancel()
		t.Fatalf("event stream has content type %q", ct)
	}
	s := &stream{t: t, events: make(chan Event, 1<<14)}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e Event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				t.Errorf("bad event %q: %v", data, err)
				return
			}
			select {
			case s.events <- e:
			default:
				t.Errorf("test stream buffer full")
				return
			}
		}
	}()
	return s
}

// until reads events until ok returns true for one, and returns the events read,
// failing the test after timeout.
func (s *stream) until(timeout time.Duration, what string, ok func(Event) bool) []Event {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var seen []Event
	for {
		select {
		case e := <-s.events:
			seen = append(seen, e)
			if ok(e) {
				return seen
			}
		case <-deadline.C:
			s.t.Fatalf("no event %s within %s; %d events seen, the last: %+v", what, timeout, len(seen), tail(seen, 5))
		}
	}
}

func tail(es []Event, n int) []Event { return es[max(0, len(es)-n):] }

// count counts the events of type typ.
func count(es []Event, typ string) int {
	n := 0
	for _, e := range es {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// pollUntil reads a state every 50 ms until cond accepts it, failing the test after
// timeout with the state last read.
func pollUntil[T any](t *testing.T, timeout time.Duration, what string, read func() T, cond func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := read()
		if cond(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %+v", what, timeout, v)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
