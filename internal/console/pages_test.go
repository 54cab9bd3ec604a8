package console

import (
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/waybill/waybill/internal/admin"
)

// The pages and their assets are served, and nothing in them loads from elsewhere: the
// console works offline.
func TestPagesAreSelfContained(t *testing.T) {
	_, srv := startConsole(t, Config{})
	for path, want := range map[string]string{
		"/": "Delivery simulator", "/matrix": "Guarantee matrix", "/cluster": "Cluster",
		"/assets/style.css": "--accent", "/assets/sim.js": "tally", "/assets/common.js": "EventSource",
		"/assets/replicas.js": "high watermark", "/assets/cluster.js": "under-replicated",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: status %d, %d bytes without %q", path, resp.StatusCode, len(body), want)
		}
	}
	resp, err := http.Get(srv.URL + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nowhere: status %d, want 404", resp.StatusCode)
	}

	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["'](https?:)?//|url\(\s*["']?(https?:)?//|@import|https?://`)
	err = fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := assets.ReadFile(path)
		if err != nil {
			return err
		}
		if m := external.Find(data); m != nil {
			t.Errorf("%s refers to something outside the console: %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Mounted on the admin listener, the console leaves /metrics, /healthz, /readyz and
// pprof where they were.
func TestConsoleOnAdminListener(t *testing.T) {
	c, err := New(Config{SandboxDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	adm, err := admin.Start("127.0.0.1:0", prometheus.NewRegistry(), func() bool { return true }, slog.New(slog.DiscardHandler), c)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	base := "http://" + adm.Addr().String()
	for path, want := range map[string]string{
		"/": "Delivery simulator", "/healthz": "ok", "/readyz": "ready", "/debug/pprof/": "goroutine",
		"/metrics": "", "/assets/sim.js": "renderTally",
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: status %d, body without %q", path, resp.StatusCode, want)
		}
	}
}
