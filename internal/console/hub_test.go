package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func ids(es []Event) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

// A fresh page replays the current run from its reset; a reconnecting page gets what it
// missed after its last id.
func TestHubReplay(t *testing.T) {
	h := newHub()
	h.publish(newEvent("send", 1))  // 1
	h.publish(newEvent("reset", 2)) // 2
	h.publish(newEvent("send", 2))  // 3
	h.publish(newEvent("tally", 2)) // 4

	backlog, s := h.subscribe(0)
	if got := ids(backlog); len(got) != 3 || got[0] != 2 {
		t.Errorf("fresh subscriber replays %v, want [2 3 4]", got)
	}
	h.unsubscribe(s)
	backlog, s = h.subscribe(3)
	if got := ids(backlog); len(got) != 1 || got[0] != 4 {
		t.Errorf("subscriber after 3 replays %v, want [4]", got)
	}
	h.publish(newEvent("send", 2))
	if e := <-s.ch; e.ID != 5 {
		t.Errorf("live event has id %d, want 5", e.ID)
	}
	h.close()
	if _, ok := <-s.ch; ok {
		t.Error("stream still open after close")
	}
}

// A stream that falls too far behind is dropped, not allowed to block the others.
func TestHubDropsSlowSubscriber(t *testing.T) {
	h := newHub()
	_, slow := h.subscribe(0)
	for i := 0; i < subscriberBuffer+1; i++ {
		h.publish(newEvent("send", 1))
	}
	n := 0
	for range slow.ch {
		n++
	}
	if n != subscriberBuffer {
		t.Errorf("slow subscriber got %d events before being dropped, want %d", n, subscriberBuffer)
	}
}

// The SSE handler writes id and data lines, honours Last-Event-ID and ends when the hub
// closes.
func TestServeEvents(t *testing.T) {
	h := newHub()
	for i := 0; i < 3; i++ {
		e := newEvent("notice", 1)
		e.Message = "hello"
		h.publish(e)
	}
	srv := httptest.NewServer(http.HandlerFunc(h.serveEvents))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h.close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.WriteString(string(buf[:n]))
		if err != nil {
			break
		}
	}
	out := b.String()
	if strings.Contains(out, "id: 1\n") || !strings.Contains(out, "id: 2\ndata: {") || !strings.Contains(out, "id: 3\n") {
		t.Errorf("stream after Last-Event-ID 1:\n%s", out)
	}
	if !strings.Contains(out, `"message":"hello"`) {
		t.Errorf("events lack their JSON body:\n%s", out)
	}
}
