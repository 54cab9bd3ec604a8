// The guarantee matrix page: a grid of faults × settings filled as cells finish, then
// the lab's own HTML report of the latest run.
"use strict";

const $ = (id) => document.getElementById(id);
const el = wb.el;

const page = { rows: [], faults: [], cells: new Map(), running: false, current: "", runningCells: [], reportURL: "" };

const key = (row, fault) => row + "\u0000" + fault;

function drawGrid() {
  const head = el("tr", {}, el("th", {}, "fault \\ settings"),
    page.rows.map((r) => el("th", {}, r.name, el("span", { class: "guar" }, r.guarantee))));
  const body = page.faults.map((f) => el("tr", {}, el("th", {}, f.name), page.rows.map((r) => {
    const c = page.cells.get(key(r.name, f.name));
    const id = "cell-" + r.id + "-" + f.id;
    if (c) {
      return el("td", { class: "cell " + c.class, id, title: c.note || "" }, c.short,
        el("span", { class: "exp" }, "expected: " + c.expected));
    }
    const running = page.running && page.runningCells.includes(r.name + " × " + f.name);
    return el("td", { class: "cell" + (running ? " running" : ""), id }, running ? "running…" : "");
  })));
  $("matrix-grid").replaceChildren(head, ...body);
}

function showProgress(p) {
  page.running = p.running;
  page.current = p.current || "";
  page.runningCells = p.running_cells || [];
  $("matrix-progress").max = Math.max(1, p.total);
  $("matrix-progress").value = p.done;
  $("run-matrix").disabled = p.running;
  if (p.running) {
    $("matrix-status").textContent = p.done + " of " + p.total + " cells" + (p.current ? " · " + p.current : "");
  } else if (p.error) {
    $("matrix-status").textContent = "The run failed: " + p.error;
  } else if (p.summary) {
    $("matrix-status").textContent = p.summary;
  }
  if (p.report && !p.running) {
    $("report-box").hidden = false;
    page.reportURL = "/api/matrix/report.html?t=" + Date.now();
    if ($("report-box").open) { $("matrix-report").dataset.url = page.reportURL; $("matrix-report").src = page.reportURL; }
  }
}

async function load() {
  const st = await wb.api("GET", "/api/matrix");
  page.rows = st.rows || [];
  page.faults = st.faults || [];
  page.cells.clear();
  for (const c of st.cells || []) page.cells.set(key(c.row, c.fault), c);
  showProgress(st);
  drawGrid();
}

function onEvent(e) {
  if (e.type !== "matrix") return;
  const p = e.matrix;
  if (p.running && p.done === 0 && !p.cell && !page.running) {
    load(); // a run started elsewhere: fetch its rows and faults
    return;
  }
  if (p.cell) page.cells.set(key(p.cell.row, p.cell.fault), p.cell);
  showProgress(p);
  drawGrid();
}

// The report loads when its box is first opened.
$("report-box").addEventListener("toggle", () => {
  const frame = $("matrix-report");
  if ($("report-box").open && page.reportURL && frame.dataset.url !== page.reportURL) {
    frame.dataset.url = page.reportURL;
    frame.src = page.reportURL;
  }
});

$("run-matrix").addEventListener("click", async () => {
  $("error").textContent = "";
  try {
    $("report-box").hidden = true;
    await wb.api("POST", "/api/matrix/run", {});
    await load();
  } catch (err) {
    $("error").textContent = err.message;
  }
});

load().catch((err) => { $("error").textContent = err.message; });
wb.stream(onEvent);
