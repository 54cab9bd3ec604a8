// The Delivery Simulator: controls, the three lanes, the flights between them, the tally
// and the event log, all driven by the console's event stream; the replica lanes are
// replicas.js's.
"use strict";

const $ = (id) => document.getElementById(id);
const el = wb.el;

const MAX_CHIPS = 500;   // per lane; later values are counted, not drawn
const MAX_FLIGHTS = 40;  // animations at once; beyond, state changes without flights
const MAX_LOG = 300;

const sim = {
  session: 0,
  settings: null,        // settings of the run on screen
  values: new Map(),     // value → {prod, broker: [{p, o, el}], cons: [el], processed, attempts}
  partitions: new Map(), // partition → chips container
  commits: new Map(),    // partition → committed offset
  drawn: { producer: 0, broker: 0, consumer: 0 },
  hidden: { producer: 0, broker: 0, consumer: 0 },
  flights: 0,
  replaying: false,
  armed: new Set(),
  busy: false,
};

// ---- settings ----

function readSettings() {
  return {
    acks: $("acks").value,
    retries: $("retries").checked,
    idempotence: $("idempotence").checked,
    transactions: $("transactions").checked,
    consumer: $("consumer").value,
    partitions: Number($("partitions").value),
    replication_factor: Number($("replication-factor").value),
    min_insync_replicas: Number($("min-isr").value),
  };
}

function setControls(s) {
  $("acks").value = s.acks;
  $("retries").checked = s.retries;
  $("idempotence").checked = s.idempotence;
  $("transactions").checked = s.transactions;
  $("consumer").value = s.consumer;
  $("partitions").value = String(s.partitions);
  $("replication-factor").value = String(s.replication_factor);
  $("min-isr").value = String(s.min_insync_replicas);
  applyImplications();
}

// applyImplications mirrors what the server enforces: transactions need idempotence,
// which needs acks=all and retries.
function applyImplications() {
  const tx = $("transactions").checked;
  if (tx) $("idempotence").checked = true;
  const idem = $("idempotence").checked;
  if (idem) { $("acks").value = "all"; $("retries").checked = true; }
  $("idempotence").disabled = tx;
  $("acks").disabled = idem;
  $("retries").disabled = idem;
  $("idempotence-label").classList.toggle("disabled", tx);
  $("retries-label").classList.toggle("disabled", idem);
  // min.insync.replicas above the replication factor would refuse every acks=all write.
  const rf = Number($("replication-factor").value);
  for (const o of $("min-isr").options) o.disabled = Number(o.value) > rf;
  if (Number($("min-isr").value) > rf) $("min-isr").value = String(rf);
  showSettingsHint();
}

const SETTINGS = ["acks", "retries", "idempotence", "transactions", "consumer", "partitions",
  "replication_factor", "min_insync_replicas"];

function sameSettings(a, b) {
  return a && b && SETTINGS.every((k) => a[k] === b[k]);
}

function showSettingsHint() {
  const changed = sim.settings && !sameSettings(readSettings(), sim.settings);
  $("settings-hint").textContent = changed ? "Changed: the next send or reset starts a fresh run." : "";
}

// ---- lanes ----

function short(v) { return v ? v.slice(v.lastIndexOf("-") + 1) : ""; }

function info(v) {
  let i = sim.values.get(v);
  if (!i) {
    i = { prod: null, broker: [], cons: [], processed: 0, attempts: 0, outcome: "pending" };
    sim.values.set(v, i);
  }
  return i;
}

function chip(v, cls, title) {
  return el("span", { class: "chip " + cls, title: title || v, "data-value": v }, short(v));
}

function addChip(lane, container, c) {
  if (sim.drawn[lane] >= MAX_CHIPS) {
    sim.hidden[lane]++;
    $(lane + "-note").textContent = "+" + sim.hidden[lane] + " not drawn";
    return null;
  }
  sim.drawn[lane]++;
  container.append(c);
  return c;
}

function partitionRow(p) {
  let chips = sim.partitions.get(p);
  if (chips) return chips;
  chips = el("div", { class: "chips", id: "partition-" + p });
  const row = el("div", { class: "partition" }, el("span", { class: "plabel" }, "p" + p), chips);
  const box = $("broker-partitions");
  const after = [...sim.partitions.keys()].filter((q) => q > p).sort((a, b) => a - b)[0];
  if (after === undefined) box.append(row);
  else box.insertBefore(row, sim.partitions.get(after).parentElement);
  sim.partitions.set(p, chips);
  return chips;
}

function clearStage(settings) {
  sim.values.clear();
  sim.partitions.clear();
  sim.commits.clear();
  sim.drawn = { producer: 0, broker: 0, consumer: 0 };
  sim.hidden = { producer: 0, broker: 0, consumer: 0 };
  $("producer-chips").replaceChildren();
  $("broker-partitions").replaceChildren();
  $("consumer-chips").replaceChildren();
  $("commits").textContent = "";
  for (const id of ["producer-note", "broker-note", "consumer-note"]) $(id).textContent = "";
  for (let p = 0; p < ((settings && settings.partitions) || 1); p++) partitionRow(p);
  renderTally({});
}

function setProducerState(v, cls, attempts) {
  const i = info(v);
  if (!i.prod) return;
  i.prod.className = "chip " + cls;
  const label = short(v);
  if (attempts > 1) {
    i.prod.replaceChildren(label, el("sup", {}, "×" + attempts));
  } else {
    i.prod.replaceChildren(label);
  }
}

function markDuplicates(v) {
  const i = info(v);
  if (i.broker.length > 1) {
    for (const b of i.broker) {
      b.el.classList.add("dup");
      b.el.title = v + ": stored " + i.broker.length + " times (" + i.broker.map((x) => "p" + x.p + "@" + x.o).join(", ") + ")";
    }
  }
}

// ---- flights ----

function fly(from, to, cls, text, opts) {
  if (!from || !to || sim.flights >= MAX_FLIGHTS || document.hidden || sim.replaying) return;
  const stage = $("stage").getBoundingClientRect();
  const a = from.getBoundingClientRect();
  const b = to.getBoundingClientRect();
  if (!a.width || !b.width) return;
  const f = el("span", { class: "chip flight " + cls }, text);
  f.style.left = (a.left - stage.left) + "px";
  f.style.top = (a.top - stage.top) + "px";
  $("stage").append(f);
  sim.flights++;
  let dx = b.left - a.left, dy = b.top - a.top;
  if (opts && opts.half) { dx /= 2; dy /= 2; }
  const done = () => {
    if (!f.isConnected) return;
    f.remove();
    sim.flights--;
  };
  requestAnimationFrame(() => requestAnimationFrame(() => {
    f.style.transform = "translate(" + dx + "px," + dy + "px)";
    if (opts && opts.half) f.classList.add("gone");
  }));
  f.addEventListener("transitionend", done, { once: true });
  setTimeout(done, 1200);
}

// target is where a value lands in a partition's log: after its last chip.
function partitionEnd(p) {
  const chips = partitionRow(p);
  return chips.lastElementChild || chips;
}

function brokerChip(v, p, o) {
  const b = info(v).broker.find((x) => x.p === p && (o < 0 || x.o === o));
  return b ? b.el : null;
}

// ---- events ----

function onEvent(e) {
  if (e.type === "matrix") return;
  // Events replayed when the page (re)connects are drawn without flights.
  sim.replaying = e.t < Date.now() - 1500;
  if (e.type === "reset") {
    sim.session = e.session;
    sim.settings = e.settings;
    document.body.dataset.session = String(e.session);
    setControls(e.settings);
    clearStage(e.settings);
    lanes.reset();
    loadReplicas(e.session).catch(showError);
    $("run-info").textContent = "topic " + e.topic;
    sim.armed.clear();
    renderArmed();
    log("reset", "k-reset", e.message, null, e.t);
    return;
  }
  if (e.session && e.session !== sim.session) return; // an earlier run's
  const v = e.value;
  const i = v ? info(v) : null;
  switch (e.type) {
    case "send":
      i.prod = addChip("producer", $("producer-chips"), chip(v, "queued"));
      log("send", "", "application sent", v, e.t);
      break;
    case "request":
    case "retry":
      i.attempts = Math.max(i.attempts, e.attempt);
      if (!i.prod || !i.prod.classList.contains("acked")) {
        setProducerState(v, e.attempt > 1 ? "retrying" : "inflight", i.attempts);
      }
      fly(i.prod, partitionEnd(e.partition), e.attempt > 1 ? "retrying" : "inflight", short(v));
      log(e.type + e.attempt + "-" + e.partition, e.attempt > 1 ? "k-fault" : "",
        (e.attempt > 1 ? "retry #" + e.attempt : "request") + " to partition " + e.partition, v, e.t);
      break;
    case "request-lost":
      fly(i.prod, partitionEnd(e.partition), "failed", "✗", { half: true });
      log("request-lost", "k-bad", "request lost on the way, the broker never saw", v, e.t);
      break;
    case "stored": {
      const c = chip(v, "fresh", v + " at offset " + e.offset + " of partition " + e.partition);
      c.dataset.offset = e.offset;
      const row = partitionRow(e.partition);
      const next = [...row.children].find((x) => Number(x.dataset.offset) > e.offset);
      if (sim.drawn.broker < MAX_CHIPS) {
        sim.drawn.broker++;
        if (next) row.insertBefore(c, next); else row.append(c);
        i.broker.push({ p: e.partition, o: e.offset, el: c });
      } else {
        sim.hidden.broker++;
        $("broker-note").textContent = "+" + sim.hidden.broker + " not drawn";
        i.broker.push({ p: e.partition, o: e.offset, el: null });
      }
      markDuplicates(v);
      log("stored-" + e.partition, i.broker.length > 1 ? "k-bad" : "",
        i.broker.length > 1 ? "stored AGAIN in partition " + e.partition : "stored in partition " + e.partition,
        v + "@" + e.offset, e.t);
      break;
    }
    case "deduped": {
      const c = brokerChip(v, e.partition, e.offset);
      if (c) { c.classList.remove("fresh"); void c.offsetWidth; c.classList.add("fresh"); }
      log("deduped", "k-ok", "broker recognised the retry and kept the original", e.offset >= 0 ? v + "@" + e.offset : v, e.t);
      break;
    }
    case "rejected":
      log("rejected-" + e.error, "k-bad", "broker refused (" + e.error + ")", v, e.t);
      break;
    case "ack-lost":
      fly(brokerChip(v, e.partition, e.offset) || partitionEnd(e.partition), i.prod, "ack lost", "ack ✗", { half: true });
      log("ack-lost", "k-bad", "ack lost on its way back", v, e.t);
      break;
    case "ack":
      i.outcome = e.outcome;
      lanes.refresh();
      if (e.outcome === "ok") {
        setProducerState(v, "acked", i.attempts);
        if (e.offset >= 0) fly(brokerChip(v, e.partition, e.offset), i.prod, "ack", "ack");
        log("ack-ok", "k-ok", "acked", v, e.t);
      } else {
        setProducerState(v, e.outcome === "failed" ? "failed" : "unknown", i.attempts);
        if (i.prod) i.prod.title = v + ": " + e.outcome + (e.error ? " (" + e.error + ")" : "");
        log("ack-" + e.outcome, "k-bad", e.outcome === "failed" ? "failed" : "outcome unknown to the producer" + (e.error ? " (" + e.error + ")" : ""), v, e.t);
      }
      break;
    case "poll": {
      const c = chip(v, i.cons.length ? "again" : "fresh", v + " from offset " + e.offset + " of partition " + e.partition + ", consumer " + e.consumer);
      fly(brokerChip(v, e.partition, e.offset), $("consumer-chips"), "acked", short(v));
      const added = addChip("consumer", $("consumer-chips"), c);
      if (added) i.cons.push(added);
      if (i.cons.length > 1) for (const x of i.cons) x.classList.add("again");
      log("poll-" + e.consumer + "-" + e.partition, i.cons.length > 1 ? "k-fault" : "",
        "consumer " + e.consumer + " polled partition " + e.partition, v, e.t);
      break;
    }
    case "processed":
      i.processed++;
      if (i.processed > 1) for (const x of i.cons) x.classList.add("again");
      log("processed-" + e.consumer, i.processed > 1 ? "k-fault" : "", i.processed > 1 ? "processed AGAIN" : "processed", v, e.t);
      break;
    case "commit":
      sim.commits.set(e.partition, e.offset);
      $("commits").textContent = "committed: " + [...sim.commits.entries()].sort((a, b) => a[0] - b[0]).map(([p, o]) => "p" + p + " → " + o).join(", ");
      log("commit", e.outcome === "ok" ? "" : "k-bad", "consumer " + e.consumer + " committed partition " + e.partition + " up to offset " + e.offset + (e.outcome === "ok" ? "" : " (" + e.outcome + ")"), null, e.t);
      break;
    case "txn":
      log("txn", e.outcome === "ok" ? "k-ok" : "k-bad", e.message, null, e.t);
      break;
    case "fault":
      if (e.state === "armed") sim.armed.add(e.fault);
      else if (e.state === "disarmed") sim.armed.clear();
      else sim.armed.delete(e.fault);
      renderArmed();
      log("fault", "k-fault", e.message, null, e.t);
      break;
    case "tally":
      renderTally(e.tally);
      break;
    case "replicas":
      lanes.update(e.replicas);
      break;
    case "truncated":
      lanes.truncated(e.node, e.values);
      delete document.body.dataset.quiet; // the tally counted before it is no verdict
      log("truncated", "k-bad", e.message, null, e.t);
      break;
    case "cluster":
      log("cluster", "k-reset", e.message, null, e.t);
      break;
    case "election":
    case "isr":
    case "controller":
    case "node":
      log(e.type, "k-fault", e.message, null, e.t);
      break;
    case "notice":
      log("notice", "", e.message, null, e.t);
      break;
    case "error":
      log("error", "k-bad", e.message, null, e.t);
      break;
  }
}

// ---- tally ----

const TALLY = ["sent", "acked", "stored", "consumed", "lost", "duplicated", "reordered",
  "retries", "acks_lost", "unknown", "failed", "processed", "reprocessed", "unprocessed",
  "acked_truncated", "read_truncated", "replica_divergence"];

function renderTally(t) {
  for (const k of TALLY) {
    const n = t[k] || 0;
    const b = $("tally-" + k.replaceAll("_", "-"));
    b.textContent = String(n);
    const box = b.parentElement;
    if (box.dataset.bad) box.classList.toggle("bad", n > 0);
  }
  const ex = $("examples");
  ex.replaceChildren(...(t.examples || []).map((s) => el("li", {}, s)));
  document.body.dataset.quiet = t.quiet ? "1" : "";
}

// ---- armed faults ----

function renderArmed() {
  for (const b of document.querySelectorAll(".faults button")) {
    b.classList.toggle("armed", sim.armed.has(b.dataset.fault));
  }
}

// ---- event log ----

let lastLine = null;

function log(key, cls, text, value, t) {
  const box = $("log");
  const now = t || Date.now();
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 30;
  if (value !== null && lastLine && lastLine.key === key && now - lastLine.t < 600 && lastLine.values.length < 60) {
    lastLine.values.push(short(value));
    lastLine.t = now;
    lastLine.span.textContent = lastLine.text + ": " + lastLine.values.join(", ");
  } else {
    const values = value !== null ? [short(value)] : [];
    const span = el("span", { class: cls }, values.length ? text + ": " + values.join(", ") : text);
    box.append(el("div", {}, el("time", {}, wb.clock(now)), span));
    lastLine = { key, t: now, text, values, span };
    while (box.childElementCount > MAX_LOG) box.firstElementChild.remove();
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
}

// ---- actions ----

function showError(err) { $("error").textContent = err ? String(err.message || err) : ""; }

async function act(fn) {
  if (sim.busy) return;
  sim.busy = true;
  document.body.dataset.busy = "1";
  showError(null);
  try {
    await fn(); // what changed arrives on the event stream
  } catch (err) {
    showError(err);
  } finally {
    sim.busy = false;
    delete document.body.dataset.busy;
  }
}

function bind() {
  for (const id of ["acks", "retries", "idempotence", "transactions", "consumer", "partitions", "replication-factor", "min-isr"]) {
    $(id).addEventListener("change", applyImplications);
  }
  $("reset").addEventListener("click", () => act(() => wb.api("POST", "/api/sim/reset", readSettings())));
  $("send").addEventListener("click", () => act(() => wb.api("POST", "/api/sim/send", {
    settings: readSettings(),
    count: Math.max(1, Math.min(500, Number($("count").value) || 1)),
    pace_ms: Number($("pace").value),
  })));
  for (const b of document.querySelectorAll(".faults button")) {
    b.addEventListener("click", () => act(() => wb.api("POST", "/api/sim/fault", { fault: b.dataset.fault, settings: readSettings() })));
  }
}

// loadReplicas draws the lanes of a run that just started or was replayed, unless its
// replicas events got there first: they are sent live only, never replayed.
async function loadReplicas(session) {
  const view = await wb.api("GET", "/api/sim/replicas");
  if (view.session === session && session === sim.session) lanes.first(view);
}

async function start() {
  bind();
  lanes.setState((v) => (sim.values.has(v) ? sim.values.get(v).outcome : undefined));
  try {
    const st = await wb.api("GET", "/api/sim/state");
    setControls(st.settings);
    if (st.session) {
      sim.session = st.session;
      sim.settings = st.settings;
      document.body.dataset.session = String(st.session);
    }
    sim.armed = new Set(st.armed || []);
    renderArmed();
    clearStage(st.settings);
    renderTally(st.tally || {});
    await loadReplicas(sim.session);
  } catch (err) {
    showError(err);
  }
  const es = wb.stream(onEvent);
  es.addEventListener("open", () => { document.body.dataset.ready = "1"; });
}

start();
