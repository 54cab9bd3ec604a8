package console

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// keepAlive is how often an idle event stream gets a comment line, so that proxies and
// browsers keep it open.
const keepAlive = 15 * time.Second

// serveEvents streams the hub's events as Server-Sent Events: each is `id: N` and
// `data: <JSON Event>`. A browser reconnecting sends Last-Event-ID and gets what it
// missed; `?last=N` does the same for clients that cannot set headers.
func (h *hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last")
	}
	lastID, _ := strconv.ParseInt(last, 10, 64)
	backlog, sub := h.subscribe(lastID)
	defer h.unsubscribe(sub)

	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	send := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	}
	fmt.Fprint(bw, "retry: 1000\n\n")
	for _, e := range backlog {
		writeEvent(bw, e)
	}
	if send() != nil {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case e, ok := <-sub.ch:
			if !ok {
				return
			}
			writeEvent(bw, e)
			// Write what else is waiting before flushing, so a burst costs one flush.
			for more := true; more; {
				select {
				case e, ok := <-sub.ch:
					if !ok {
						_ = send()
						return
					}
					writeEvent(bw, e)
				default:
					more = false
				}
			}
		case <-tick.C:
			fmt.Fprint(bw, ": keep-alive\n\n")
		case <-r.Context().Done():
			return
		}
		if send() != nil {
			return
		}
	}
}

func writeEvent(w *bufio.Writer, e Event) {
	data, err := json.Marshal(e)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.ID, data)
}
