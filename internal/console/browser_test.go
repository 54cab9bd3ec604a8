package console

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which scripts/test installs; WAYBILL_CHROMIUM overrides.
func chromiumPath() string {
	if p := os.Getenv("WAYBILL_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// The simulator in a real browser, driven by clicks: a lost ack duplicates records
// without idempotence and none with it. A screenshot of each run is saved to
// $WAYBILL_SCREENSHOT_DIR (default: the test's temporary directory).
func TestBrowserLostAck(t *testing.T) {
	_, srv := startConsole(t, Config{})
	b, shots := openSimulator(t, srv.URL, 1366, 768)

	// Without idempotence: the producer retries a batch the broker already stored.
	b.chooseRetries("all", 5)
	b.freshRun()
	b.arm("#fault-drop-ack")
	b.do("send", chromedp.Click(chromedp.ID("send")))
	b.until(`Number(document.querySelector("#tally-duplicated").textContent) >= 1`, 30*time.Second)
	b.screenshot(filepath.Join(shots, "simulator-lost-ack-duplicates.png"))
	t.Logf("without idempotence: %s", b.tally())

	// With idempotence the broker recognises the retry.
	b.check("#idempotence", true)
	b.freshRun()
	b.arm("#fault-drop-ack")
	b.do("send", chromedp.Click(chromedp.ID("send")))
	b.until(`(() => {
		const n = (id) => Number(document.querySelector(id).textContent);
		return n("#tally-sent") >= 5 && n("#tally-acked") === n("#tally-sent") && n("#tally-acks-lost") >= 1;
	})()`, 30*time.Second)
	if dup := b.number("#tally-duplicated"); dup != 0 {
		t.Errorf("with idempotence the tally shows %d duplicated, want 0 (%s)", dup, b.tally())
	}
	if retried := b.number("#tally-retries"); retried < 1 {
		t.Errorf("with idempotence no value was retried, so the lost ack was not exercised (%s)", b.tally())
	}
	b.screenshot(filepath.Join(shots, "simulator-lost-ack-idempotent.png"))
	t.Logf("with idempotence: %s", b.tally())
}

// openSimulator opens the simulator at base in a headless chromium with a window of
// width × height, once its event stream is connected. Screenshots go to
// $WAYBILL_SCREENSHOT_DIR, or the test's temporary directory.
func openSimulator(t *testing.T, base string, width, height int) (b *browser, shots string) {
	t.Helper()
	exe := chromiumPath()
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("headless chromium not found at %s (%v): run scripts/test, which installs it (apt-get install chromium), or set WAYBILL_CHROMIUM", exe, err)
	}
	shots = os.Getenv("WAYBILL_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(width, height),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)

	b = &browser{t: t, ctx: ctx}
	b.do("open the simulator",
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("send")),
	)
	b.until(`document.body.dataset.ready === "1"`, 20*time.Second)
	return b, shots
}

// browser runs chromedp actions for a test, failing it on the first error.
type browser struct {
	t   *testing.T
	ctx context.Context
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression, failing the test if it cannot.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// until polls a JavaScript expression until it is true, failing after timeout.
func (b *browser) until(expr string, timeout time.Duration) {
	b.t.Helper()
	poll := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))
	if _, err := chromedp.Run(b.ctx, poll); err != nil {
		b.t.Fatalf("waiting for %s: %v (tally %s, errors %q)", expr, err, b.tally(), b.text("#error"))
	}
}

func (b *browser) selectValue(sel, value string) {
	b.t.Helper()
	b.do("choose "+value+" in "+sel, chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change"))`, sel)))
}

// chooseRetries sets the controls for a retrying producer without idempotence, with
// acks, on one partition of three replicas (two in sync required), sending count values.
func (b *browser) chooseRetries(acks string, count int) {
	b.t.Helper()
	b.selectValue("#acks", acks)
	b.selectValue("#partitions", "1")
	b.selectValue("#replication-factor", "3")
	b.selectValue("#min-isr", "2")
	b.check("#idempotence", false)
	b.check("#retries", true)
	b.do(fmt.Sprintf("ask for %d records", count), chromedp.SetValue(chromedp.ID("count"), strconv.Itoa(count)))
}

// check clicks a checkbox if it is not in the state wanted.
func (b *browser) check(sel string, want bool) {
	b.t.Helper()
	if eval[bool](b, fmt.Sprintf(`document.querySelector(%q).checked`, sel)) != want {
		b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	}
}

// freshRun clicks Reset and waits for the new run to be on screen.
func (b *browser) freshRun() {
	b.t.Helper()
	before := b.attr("session")
	b.do("reset", chromedp.Click(chromedp.ID("reset")))
	b.until(fmt.Sprintf(`Number(document.body.dataset.session || 0) > %d && !document.body.dataset.busy`, before), 20*time.Second)
}

// arm clicks a fault button and waits until it shows armed.
func (b *browser) arm(sel string) {
	b.t.Helper()
	b.do("arm "+sel, chromedp.Click(chromedp.CSS(sel)))
	b.until(fmt.Sprintf(`document.querySelector(%q).classList.contains("armed")`, sel), 10*time.Second)
}

func (b *browser) attr(name string) int {
	v := eval[string](b, fmt.Sprintf(`document.body.dataset[%q] || "0"`, name))
	n, _ := strconv.Atoi(v)
	return n
}

func (b *browser) number(sel string) int {
	n, err := strconv.Atoi(b.text(sel))
	if err != nil {
		b.t.Fatalf("%s: %v", sel, err)
	}
	return n
}

func (b *browser) text(sel string) string {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).textContent`, sel)))
	if err != nil {
		return "?"
	}
	return s
}

func (b *browser) tally() string {
	out := ""
	for _, k := range []string{"sent", "acked", "stored", "consumed", "lost", "duplicated", "reordered", "retries", "acks-lost"} {
		out += fmt.Sprintf("%s=%s ", k, b.text("#tally-"+k))
	}
	return out
}

// screenshot saves the viewport once the flights between lanes have landed.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	b.do("scroll to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.until(`document.querySelectorAll(".flight").length === 0`, 10*time.Second)
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
}
