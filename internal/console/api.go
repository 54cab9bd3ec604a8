package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"
)

// routes maps the pages, their assets and the API:
//
//	GET  /                      the Delivery Simulator
//	GET  /matrix                the guarantee matrix
//	GET  /cluster               the cluster's live state
//	GET  /assets/...            embedded CSS and JavaScript
//	GET  /api/events            Server-Sent Events (Event as JSON)
//	GET  /api/sim/state         SimState
//	POST /api/sim/reset         SimSettings → SimState of a fresh run
//	POST /api/sim/send          SendRequest → SimState
//	POST /api/sim/fault         FaultRequest → SimState
//	GET  /api/sim/replicas      ReplicaView of the run's partition 0 on every node
//	GET  /api/matrix            MatrixProgress with every finished cell
//	POST /api/matrix/run        MatrixRequest → 202, progress on the event stream
//	GET  /api/matrix/report.html  the latest report as the lab's self-contained page
//	GET  /api/cluster[?internal=1]  ClusterState
//
// POST bodies must be application/json, which a cross-site form cannot send without the
// browser asking the console first, and the console never says yes.
func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page("index.html"))
	mux.HandleFunc("GET /matrix", page("matrix.html"))
	mux.HandleFunc("GET /cluster", page("cluster.html"))
	mux.Handle("GET /assets/", assetHandler())

	mux.HandleFunc("GET /api/events", c.hub.serveEvents)
	mux.HandleFunc("GET /api/sim/state", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.sim.state())
	})
	mux.HandleFunc("GET /api/sim/replicas", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.sim.replicas())
	})
	mux.HandleFunc("POST /api/sim/reset", func(w http.ResponseWriter, r *http.Request) {
		var s SimSettings
		if !readJSON(w, r, &s) {
			return
		}
		sess, err := c.sim.current(&s, true)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, sess.state())
	})
	mux.HandleFunc("POST /api/sim/send", func(w http.ResponseWriter, r *http.Request) {
		var req SendRequest
		if !readJSON(w, r, &req) {
			return
		}
		st, err := c.sim.send(req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	mux.HandleFunc("POST /api/sim/fault", func(w http.ResponseWriter, r *http.Request) {
		var req FaultRequest
		if !readJSON(w, r, &req) {
			return
		}
		st, err := c.sim.fault(req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	})

	mux.HandleFunc("GET /api/matrix", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, c.matrix.status())
	})
	mux.HandleFunc("POST /api/matrix/run", func(w http.ResponseWriter, r *http.Request) {
		var req MatrixRequest
		if !readJSON(w, r, &req) {
			return
		}
		if err := c.matrix.start(req); err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusAccepted, c.matrix.status())
	})
	mux.HandleFunc("GET /api/matrix/report.html", func(w http.ResponseWriter, r *http.Request) {
		rep := c.matrix.latest()
		if rep == nil {
			http.Error(w, "no matrix has been run yet", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := rep.WriteHTML(w); err != nil {
			c.log.Debug("console: writing the matrix report", "err", err)
		}
	})

	mux.HandleFunc("GET /api/cluster", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 8*time.Second)
		defer cancel()
		st, err := c.cluster.state(ctx, r.URL.Query().Get("internal") == "1")
		if err != nil {
			writeJSON(w, http.StatusBadGateway, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	return mux
}

// maxBody bounds a POST body.
const maxBody = 1 << 16

// readJSON decodes a POST body into v, answering 415 or 400 itself when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send application/json"})
		return false
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request body: " + err.Error()})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with the error's status: 400 for a bad request, 409 for a busy
// matrix, 503 once closed, 500 otherwise.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var br badRequest
	switch {
	case errors.As(err, &br):
		status = http.StatusBadRequest
	case errors.Is(err, errMatrixBusy):
		status = http.StatusConflict
	case errors.Is(err, errClosed):
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
