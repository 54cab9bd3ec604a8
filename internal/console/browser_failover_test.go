package console

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The replica lanes in a real browser, driven by clicks: partition 0's leader isolated
// while the producer keeps sending, a new leader elected, the old one healed. Under
// acks=1 the tally shows values acked but lost; under acks=all none. Screenshots of the
// lanes while the old leader is cut off and once the run is quiet are saved to
// $WAYBILL_SCREENSHOT_DIR (default: the test's temporary directory), with one of the
// cluster page once the leader is killed.
func TestBrowserLeaderIsolation(t *testing.T) {
	_, srv := startConsole(t, Config{})
	b, shots := openSimulator(t, srv.URL, 1366, 1000)
	for _, acks := range []string{"1", "all"} {
		name := map[string]string{"1": "acks1", "all": "acks-all"}[acks]
		b.chooseRetries(acks, 5)
		b.freshRun()
		b.until(`document.querySelectorAll("#replica-lanes .rlane").length === 3 && Number(document.body.dataset.leader) > 0`, 20*time.Second)

		b.do("send", chromedp.Click(chromedp.ID("send")))
		// Acked, and on every replica: what comes next is the isolated leader's alone.
		b.until(`Number(document.querySelector("#tally-acked").textContent) === 5 &&
			[...document.querySelectorAll("#replica-lanes .rlane")].every((l) => Number(l.dataset.end) >= 5)`, 20*time.Second)
		old := b.attr("leader")
		b.do("isolate the leader", chromedp.Click(chromedp.ID("fault-isolate-leader")))
		b.until(fmt.Sprintf(`document.querySelector("#rlane-%d").classList.contains("isolated")`, old), 10*time.Second)
		b.do("send", chromedp.Click(chromedp.ID("send")))
		b.until(fmt.Sprintf(`Number(document.body.dataset.leader) > 0 && Number(document.body.dataset.leader) !== %d`, old), 30*time.Second)
		b.screenshot(filepath.Join(shots, "simulator-"+name+"-leader-isolated.png"))

		b.do("heal", chromedp.Click(chromedp.ID("fault-heal")))
		b.until(fmt.Sprintf(`document.querySelector("#rlane-%d .ghosts") !== null`, old), 30*time.Second)
		b.until(`(() => {
			const n = (id) => Number(document.querySelector(id).textContent);
			return document.body.dataset.quiet === "1" && n("#tally-sent") === 10 &&
				n("#tally-acked") + n("#tally-unknown") + n("#tally-failed") === 10;
		})()`, 60*time.Second)
		lost, truncated := b.number("#tally-lost"), b.number("#tally-acked-truncated")
		t.Logf("%s: %s acked-truncated=%d; the old leader, node %d, lost %s", name, b.tally(), truncated, old,
			b.text(fmt.Sprintf("#rlane-%d .ghosts", old)))
		b.screenshot(filepath.Join(shots, "simulator-"+name+"-leader-isolation-healed.png"))
		if acks == "1" && (lost == 0 || truncated == 0) {
			t.Errorf("acks=1: the page shows %d acked but lost, %d acked-truncated; want both > 0", lost, truncated)
		}
		if acks == "all" && (lost != 0 || truncated != 0) {
			t.Errorf("acks=all: the page shows %d acked but lost, %d acked-truncated; want 0", lost, truncated)
		}
	}

	// The cluster page follows the leader's death live: its broker fenced, the partition
	// under-replicated with another leader.
	old := b.attr("leader")
	b.do("kill the leader", chromedp.Click(chromedp.ID("fault-kill-leader")))
	b.do("open the cluster page", chromedp.Navigate(srv.URL+"/cluster"))
	b.until(fmt.Sprintf(`document.querySelector('#brokers tr[data-node="%d"][data-fenced="1"]') !== null &&
		document.querySelector('#topics tr[data-partition="0"][data-under-replicated="1"]') !== null`, old), 30*time.Second)
	b.screenshot(filepath.Join(shots, "cluster-leader-killed.png"))
}
