// The cluster page: the live state of the console's cluster, refreshed every second.
"use strict";

const $ = (id) => document.getElementById(id);
const el = wb.el;
const REFRESH_MS = 1000;

function table(id, headers, rows, emptyText) {
  const head = el("tr", {}, headers.map((h) => el("th", { class: h.num ? "num" : "" }, h.label || h)));
  const body = rows.length ? rows : [el("tr", {}, el("td", { class: "empty", colspan: headers.length }, emptyText))];
  $(id).replaceChildren(head, ...body);
}

const num = (v) => el("td", { class: "num" }, v < 0 ? "–" : String(v));
const time = (ms) => (ms > 0 ? wb.clock(ms) : "–");

const tag = (cls, text, title) => el("span", { class: "tag " + cls, title: title || "" }, text);

function renderBrokers(st) {
  table("brokers", [{ label: "node", num: true }, "address", "state", "role"],
    st.brokers.map((b) => el("tr", { "data-node": b.id, "data-fenced": b.fenced ? "1" : "0" }, num(b.id),
      el("td", { class: "mono" }, b.host + ":" + b.port),
      el("td", {}, b.fenced ? tag("bad", "fenced") : tag("ok", "active")),
      el("td", {}, b.controller ? tag("open", "active controller") : ""))),
    "No brokers answered.");
}

// partitionFlags are the partition's troubles, as tags.
function partitionFlags(p) {
  const flags = [];
  if (p.offline) flags.push(tag("bad", "offline", "no leader: nothing can be read or written"));
  if (p.under_min_isr) flags.push(tag("bad", "under min ISR", "fewer in-sync replicas than min.insync.replicas: acks=all writes are refused"));
  if (p.under_replicated) flags.push(tag("open", "under-replicated", "a replica is out of the ISR"));
  return flags;
}

function render(st) {
  const fenced = st.brokers.filter((b) => b.fenced).length;
  $("cluster-where").textContent = (st.sandbox ? "The console's sandbox cluster" : "This cluster") +
    " at " + st.bootstrap + " · " + st.brokers.length + " broker(s)" + (fenced ? ", " + fenced + " fenced" : "") +
    ", controller node " + st.controller + " · updated " + wb.clock(Date.parse(st.time));
  $("error").textContent = (st.errors || []).join(" · ");
  renderBrokers(st);
  let under = 0;

  const topicRows = [];
  for (const t of st.topics) {
    t.partitions.forEach((p, i) => {
      const behind = p.last_stable >= 0 && p.high_watermark >= 0 && p.last_stable < p.high_watermark;
      if (p.under_replicated || p.offline) under++;
      topicRows.push(el("tr", { "data-topic": t.name, "data-partition": p.partition, "data-under-replicated": p.under_replicated ? "1" : "0" },
        el("td", {}, i === 0 ? t.name : "", i === 0 && t.internal ? " " : "", i === 0 && t.internal ? el("span", { class: "tag" }, "internal") : null),
        num(p.partition),
        el("td", {}, p.leader < 0 ? "none" : String(p.leader), " ", el("span", { class: "small muted" }, "epoch " + p.leader_epoch)),
        el("td", {}, (p.replicas || []).join(", ")),
        el("td", {}, (p.isr || []).join(", "), t.min_insync_replicas ? el("span", { class: "small muted" }, " (min " + t.min_insync_replicas + ")") : null),
        el("td", {}, partitionFlags(p)),
        num(p.log_start),
        num(p.high_watermark),
        el("td", { class: "num" + (behind ? " lso-behind" : ""), title: behind ? "a transaction is open below the high watermark" : "" },
          p.last_stable < 0 ? "–" : String(p.last_stable)),
        el("td", { class: "small muted" }, p.error || "")));
    });
  }
  $("under-replicated").textContent = under + " under-replicated";
  $("under-replicated").className = "tag" + (under ? " bad" : " ok");
  table("topics", ["topic", { label: "partition", num: true }, "leader", "replicas", "in-sync replicas", "",
    { label: "log start", num: true }, { label: "high watermark", num: true }, { label: "last stable", num: true }, ""],
  topicRows, "No topics yet.");

  table("producers", ["topic", { label: "partition", num: true }, { label: "producer id", num: true }, { label: "epoch", num: true },
    { label: "last sequence", num: true }, "last write", { label: "open transaction from", num: true }],
  st.producers.map((p) => el("tr", {}, el("td", {}, p.topic), num(p.partition), num(p.producer_id), num(p.epoch),
    num(p.last_sequence), el("td", {}, time(p.last_timestamp)), num(p.txn_start_offset))),
  "No idempotent or transactional producer has written to these topics.");

  const open = st.transactions.filter((t) => t.open).length;
  $("open-txns").textContent = open + " open";
  $("open-txns").className = "tag" + (open ? " open" : "");
  table("transactions", ["transactional id", "state", { label: "producer id", num: true }, { label: "epoch", num: true },
    { label: "timeout", num: true }, "started", "partitions"],
  st.transactions.map((t) => el("tr", {}, el("td", {}, t.id),
    el("td", {}, el("span", { class: "tag" + (t.open ? " open" : "") }, t.state)),
    num(t.producer_id), num(t.epoch), el("td", { class: "num" }, t.timeout_ms ? (t.timeout_ms / 1000) + " s" : "–"),
    el("td", {}, time(t.started)), el("td", { class: "small" }, (t.partitions || []).join(", ")))),
  "No transactional producers.");

  const groupRows = [];
  for (const g of st.groups) {
    const members = g.members.length
      ? g.members.map((m) => el("div", { class: "small" }, el("span", { class: "mono" }, m.client_id || m.id), " ", m.host, m.assigned.length ? " · " + m.assigned.join(", ") : ""))
      : el("span", { class: "small muted" }, "no members");
    const offsets = g.offsets.map((o) => el("div", { class: "small mono" },
      o.topic + "/" + o.partition + ": committed " + (o.committed < 0 ? "–" : o.committed) + ", end " + o.end + ", lag " + (o.lag < 0 ? "?" : o.lag)));
    groupRows.push(el("tr", {}, el("td", {}, g.name),
      el("td", {}, el("span", { class: "tag" + (g.state === "Stable" ? " ok" : "") }, g.state || "?")),
      el("td", {}, members), num(g.lag), el("td", {}, offsets, g.error ? el("div", { class: "small error-bar" }, g.error) : null)));
  }
  table("groups", ["group", "state", "members and assignments", { label: "lag", num: true }, "committed offsets"],
    groupRows, "No consumer groups.");
}

let timer = null;

async function refresh() {
  clearTimeout(timer);
  if (!$("pause").checked) {
    try {
      render(await wb.api("GET", "/api/cluster" + ($("show-internal").checked ? "?internal=1" : "")));
      document.body.dataset.ready = "1";
    } catch (err) {
      $("error").textContent = err.message;
    }
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

$("show-internal").addEventListener("change", refresh);
$("pause").addEventListener("change", refresh);
refresh();
