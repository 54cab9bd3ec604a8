package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// `waybill lab ui` starts its sandbox, serves the console, and stops when asked.
func TestLabUIServesTheConsole(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runLabUI(ctx, "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler), func(url string) { urls <- url })
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("lab ui stopped before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("lab ui did not start within 30s")
	}
	for path, want := range map[string]string{"": "Delivery simulator", "api/sim/state": `"settings"`, "api/cluster": `"sandbox":true`} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: status %d, body without %q:\n%.300s", url+path, resp.StatusCode, want, body)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("lab ui: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("lab ui did not stop within 15s of its context ending")
	}
}
