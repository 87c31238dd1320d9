// swiftpipe ui: polls the JSON routes and redraws; every value arrives escaped (HTML) or is set as text.
"use strict";
const POLL_MS = 2000;
const PLOT_CONFIG = {displaylogo: false, responsive: true};

function setLive(ok, text) {
  const live = document.getElementById("live");
  live.className = "live " + (ok ? "ok" : "lost");
  live.textContent = text;
}

function swap(id, html) {
  const el = document.getElementById(id);
  if (el && el.dataset.html !== html) { el.innerHTML = html; el.dataset.html = html; }
}

function drawFigures(container, figures) {
  // Every chart's box first, then the drawing: a chart drawn before its neighbours exist would keep
  // the width of a grid that had fewer cells.
  let added = false;
  for (const fig of figures) {
    if (!document.getElementById("fig-" + fig.id)) {
      added = true;
      const div = document.createElement("div");
      div.className = "plot";
      div.id = "fig-" + fig.id;
      container.appendChild(div);
    }
  }
  if (added) container.querySelectorAll(".plot[data-spec]").forEach(div => Plotly.Plots.resize(div));
  for (const fig of figures) {
    const div = document.getElementById("fig-" + fig.id);
    const spec = JSON.stringify(fig.spec);
    if (div.dataset.spec === spec) continue;  // redraw only what changed: the page stays cheap while it polls
    div.dataset.spec = spec;
    Plotly.react(div, fig.spec.data, fig.spec.layout, PLOT_CONFIG);
  }
}

let logStage = null;

async function refreshLog() {
  const select = document.getElementById("log-stage");
  const stage = select.value;
  if (!stage) return;
  const res = await fetch("/api/log/" + encodeURIComponent(stage));
  const pre = document.getElementById("log");
  const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
  const text = res.ok ? (await res.json()).text : "(no log yet)";
  if (pre.textContent === text) return;
  pre.textContent = text;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function updateLogChoices(logs, active) {
  const select = document.getElementById("log-stage");
  const have = Array.from(select.options).map(o => o.value);
  for (const name of logs) {
    if (!have.includes(name)) { const o = document.createElement("option"); o.value = name; o.textContent = name; select.appendChild(o); }
  }
  if (logStage === null && active) { select.value = active; }
  document.getElementById("sec-log").hidden = logs.length === 0;
}

async function pollRun() {
  try {
    const res = await fetch("/api/run", {cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const state = await res.json();
    const notice = document.getElementById("notice");
    notice.textContent = state.error || state.empty || "";
    notice.className = "notice" + (state.error ? " error" : "");
    const html = state.html || {};
    for (const key of ["stages", "results", "evals", "data", "infers", "files"]) swap("sec-" + key, html[key] || "");
    const figures = state.figures || [];
    document.getElementById("sec-charts").hidden = figures.length === 0;
    drawFigures(document.getElementById("charts"), figures);
    updateLogChoices(state.logs || [], state.active);
    await refreshLog();
    setLive(true, "live · updated " + new Date().toLocaleTimeString());
  } catch (err) {
    setLive(false, "reconnecting… (" + err.message + ")");
  }
  setTimeout(pollRun, POLL_MS);
}

function sortBy(th) {
  const table = th.closest("table");
  const col = Number(th.dataset.col);
  const asc = th.dataset.dir !== "asc";
  table.querySelectorAll("th").forEach(h => delete h.dataset.dir);
  th.dataset.dir = asc ? "asc" : "desc";
  const rows = Array.from(table.tBodies[0].rows);
  const key = r => { const c = r.cells[col]; return c.dataset.value !== undefined && c.dataset.value !== "" ? Number(c.dataset.value) : c.textContent; };
  rows.sort((a, b) => { const x = key(a), y = key(b); const d = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y)); return asc ? d : -d; });
  rows.forEach(r => table.tBodies[0].appendChild(r));
}

async function compareChosen() {
  const ids = Array.from(document.querySelectorAll("input.pick:checked")).map(i => i.value);
  const query = ids.map(i => "id=" + encodeURIComponent(i)).join("&");
  const res = await fetch("/api/compare?" + query);
  const body = await res.json();
  const out = document.getElementById("comparison");
  if (!res.ok) { out.textContent = body.error; return; }
  out.innerHTML = body.html;
  drawFigures(document.getElementById("compare-charts"), body.figures);
}

function initExperiments() {
  document.querySelectorAll("th.sort").forEach(th => th.addEventListener("click", () => sortBy(th)));
  const button = document.getElementById("compare");
  if (!button) return;
  document.querySelectorAll("input.pick").forEach(box => box.addEventListener("change", () => {
    button.disabled = document.querySelectorAll("input.pick:checked").length < 2;
  }));
  button.addEventListener("click", compareChosen);
}

if (document.body.dataset.view === "run") {
  document.getElementById("log-stage").addEventListener("change", e => { logStage = e.target.value; refreshLog(); });
  pollRun();
} else {
  initExperiments();
}
