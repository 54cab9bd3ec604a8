// The replica lanes: partition 0 of the run's topic on each sandbox node, redrawn from
// the replicas events. Each lane is one replica's log tail with its high watermark; the
// leader, nodes out of the ISR, down, cut off or slowed are marked, and what a replica
// lost to a truncation stays listed under it for the rest of the run.
"use strict";

const lanes = (() => {
  const el = wb.el;
  const box = () => document.getElementById("replica-lanes");
  const line = () => document.getElementById("replica-line");
  let view = null;
  let stateOf = () => undefined; // value → "ok", "unknown", "failed", "pending" or undefined
  const ghosts = new Map();      // node → values a truncation took from it
  let scheduled = false;

  // soon redraws once for a burst of changes (an ack per value of a large send).
  function soon() {
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => { scheduled = false; render(); }, 40);
  }

  function short(v) { return v ? v.slice(v.lastIndexOf("-") + 1) : ""; }

  // recordClass says how a record is drawn: its value's fate at the producer, whether
  // the replica's high watermark covers it, and whether the leader disagrees with it.
  function recordClass(r, n, leader) {
    if (r.c) return "chip marker";
    const st = stateOf(r.v);
    let cls = "chip " + ({ ok: "acked", unknown: "unknown", failed: "failed", pending: "pending" }[st] || "");
    if (n.high_watermark >= 0 && r.o >= n.high_watermark) cls += " above-hw";
    if (leader && leader !== n && leader.up) {
      const same = leader.records.find((x) => x.o === r.o);
      const inWindow = leader.records.length && r.o >= leader.records[0].o;
      if (r.o >= leader.log_end || (inWindow && (!same || same.e !== r.e || same.v !== r.v))) cls += " alone";
    }
    return cls;
  }

  function recordTitle(r, n) {
    if (r.c) return "offset " + r.o + ": transaction marker (epoch " + r.e + ")";
    const st = stateOf(r.v);
    return "offset " + r.o + " · " + r.v + " · leader epoch " + r.e +
      (n.high_watermark >= 0 && r.o >= n.high_watermark ? " · above this replica's high watermark" : "") +
      (st ? " · producer: " + (st === "ok" ? "acked" : st === "pending" ? "waiting for its ack" : st) : "");
  }

  function badges(n, v) {
    const tags = [];
    if (!n.up) tags.push(["bad", "down"]);
    if (n.isolated) tags.push(["warn", "cut off"]);
    if (n.slow) tags.push(["warn", "slow"]);
    if (n.fenced) tags.push(["bad", "fenced"]);
    if (n.id === v.leader) tags.push(["lead", "leader"]);
    else if (n.leads) tags.push(["bad", "still thinks it leads"]);
    else if (n.replica) tags.push(["", "follower"]);
    if (n.replica && !n.in_isr) tags.push(["warn", "out of ISR"]);
    if (n.id === v.controller) tags.push(["", "controller"]);
    return tags.map(([cls, text]) => el("span", { class: "tag " + cls }, text));
  }

  function lane(n, v, leader) {
    const chips = el("div", { class: "chips rlog" });
    let hwPlaced = false;
    const hwMark = () => el("span", { class: "hw", title: "high watermark " + n.high_watermark + ": consumers read below it" }, "HW");
    for (const r of n.records) {
      if (!hwPlaced && n.high_watermark >= 0 && r.o >= n.high_watermark) { chips.append(hwMark()); hwPlaced = true; }
      chips.append(el("span", { class: recordClass(r, n, leader), title: recordTitle(r, n), "data-value": r.v || null, "data-offset": r.o },
        r.c ? "◆" : short(r.v)));
    }
    if (!hwPlaced && n.replica && n.up) chips.append(hwMark());
    const stat = n.up && n.replica
      ? "end " + n.log_end + " · hw " + n.high_watermark + " · epoch " + n.leader_epoch
      : (n.up ? "no replica" : "");
    const gone = ghosts.get(n.id) || [];
    const cls = ["rlane", n.id === v.leader ? "leader" : "", n.up ? "" : "down",
      n.replica && !n.in_isr ? "out" : "", n.isolated ? "isolated" : ""].join(" ");
    return el("div", { class: cls, id: "rlane-" + n.id, "data-end": n.log_end, "data-hw": n.high_watermark,
      "data-up": n.up ? "1" : "0", "data-leads": n.id === v.leader ? "1" : "0" },
    el("div", { class: "rhead" }, el("b", {}, "node " + n.id), ...badges(n, v), el("span", { class: "rstat" }, stat)),
    chips,
    gone.length ? el("div", { class: "ghosts" }, "truncated away: ", gone.map((g) => el("s", { title: g }, short(g)))) : null);
  }

  // waitingOn names the in-sync followers the leader's unacknowledged records wait for.
  function waitingOn(v, leader) {
    if (!leader || !leader.up) return "";
    const pending = leader.records.filter((r) => !r.c && stateOf(r.v) === "pending" && r.o >= leader.high_watermark);
    if (!pending.length) return "";
    const first = pending[0].o;
    const behind = v.nodes.filter((n) => n !== leader && n.in_isr && n.log_end <= first).map((n) => "node " + n.id);
    return behind.length
      ? " · acks=all waiting for " + behind.join(" and ") + " to copy offset " + first
      : " · waiting for the followers to confirm offset " + first + " to the leader (their next fetch does)";
  }

  function render() {
    const b = box();
    if (!view || !view.nodes.length) {
      b.replaceChildren(el("p", { class: "muted small" }, "The sandbox cluster starts with the first run."));
      line().textContent = "";
      return;
    }
    const leader = view.nodes.find((n) => n.id === view.leader);
    b.replaceChildren(...view.nodes.map((n) => lane(n, view, leader)));
    line().textContent = view.topic
      ? "partition 0 · leader " + (view.leader < 0 ? "none" : "node " + view.leader) + " (epoch " + view.leader_epoch + ")" +
        " · ISR [" + view.isr.join(", ") + "] of [" + view.replicas.join(", ") + "]" +
        " · min.insync.replicas " + view.min_insync_replicas + " · high watermark " + view.high_watermark +
        " · controller node " + view.controller + waitingOn(view, leader)
      : "controller node " + view.controller;
    document.body.dataset.leader = String(view.leader);
  }

  return {
    // setState gives the lanes each value's fate at the producer.
    setState(fn) { stateOf = fn; },
    reset() { view = null; ghosts.clear(); render(); },
    update(v) { view = v; soon(); },
    // first draws v unless a newer view came meanwhile.
    first(v) { if (!view) { view = v; soon(); } },
    // truncated keeps what a truncation took from node, under its lane.
    truncated(node, values) {
      if (!values || !values.length) return;
      ghosts.set(node, (ghosts.get(node) || []).concat(values));
      soon();
    },
    // refresh redraws after a value's fate changed (its ack came).
    refresh() { if (view) soon(); },
  };
})();
