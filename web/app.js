// The gridgov web map: the district's own plan map as the basemap, vector
// tiles on top for picking, the incident heatmap with its filters, search,
// info cards, the planner's boundary editor and, at /dashboard, the
// command center's one screen (KPI tiles, the live case list, charts
// linked to the map). Everything comes from the gridgov service that
// serves this page; nothing from the internet. Every word shown comes
// from the service's message catalogue (i18n.js): Chinese first.
import * as maplibregl from "maplibre-gl";
import { TerraDraw, TerraDrawPolygonMode, TerraDrawSelectMode } from "terra-draw";
import { TerraDrawMapLibreGLAdapter } from "terra-draw-maplibre-gl-adapter";
import { i18n, loadCatalogue, chooseLanguage, t, has, label, applyI18n, num, time, localDate } from "/web/i18n.js";

const $ = (id) => document.getElementById(id);
const origin = window.location.origin;

// ---------------------------------------------------------------- helpers

async function getJSON(url, init) {
  // The service tells its problems in the page's language.
  const headers = new Headers(init?.headers);
  if (!headers.has("accept-language")) headers.set("accept-language", i18n.lang);
  const r = await fetch(url, { ...init, headers });
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { detail: text }; }
  if (!r.ok) {
    const e = new Error(errorText(r.status, body?.detail || body?.title || r.statusText));
    e.status = r.status;
    e.body = body;
    throw e;
  }
  return { body, headers: r.headers };
}

// What the person is told when a call fails: what kind of failure in
// their language, then the service's own detail.
function errorText(status, detail) {
  const kind = { 400: "error.bad_request", 401: "error.unauthorized", 403: "error.forbidden", 404: "error.not_found",
    409: "error.conflict", 412: "error.conflict", 422: "error.bad_request", 429: "error.too_many",
    500: "error.server", 503: "error.unavailable" }[status];
  return kind ? `${t(kind)}: ${detail}` : t("error.http", { status, detail });
}

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") n.className = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) n.append(c instanceof Node ? c : String(c));
  }
  return n;
}

let toastTimer = null;
function toast(msg) {
  const t = $("toast");
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
}

const fmt = { format: (v) => num(v) };
// "name (detail)", with the brackets of the page's language.
const paren = (s) => (i18n.lang.startsWith("zh") ? `（${s}）` : ` (${s})`);
const dashboard = window.location.pathname === "/dashboard";

// ---------------------------------------------------------------- state

const state = {
  version: null,
  tilejson: null,
  summary: new Map(), // area code → {name, level, counts}
  categories: [],
  highlighted: null,
  planner: null, // the open boundary edit, see below
};

// ---------------------------------------------------------------- map

const LAYER_GROUPS = [
  { id: "plan", layers: ["plan"], on: true },
  { id: "grids", layers: ["grids-fill", "grids-line"], on: true },
  { id: "roads", layers: ["water-fill", "water-line", "roads-line"], on: false },
  { id: "buildings", layers: ["buildings-fill", "buildings"], on: true },
  { id: "units", layers: ["units"], on: false },
  { id: "merchants", layers: ["merchants"], on: true },
  { id: "cameras", layers: ["cameras"], on: true },
  { id: "sensors", layers: ["sensors"], on: true },
  { id: "panoramas", layers: ["panoramas"], on: true },
  { id: "incidents", layers: ["incidents", "incident-counts"], on: dashboard, every: true },
  { id: "heatmap", layers: ["heat"], on: true },
];
// A tap inside a building opens the building (its invisible fill takes
// the tap), not the grid around it.
const CLICKABLE = ["panoramas", "sensors", "incidents", "incident-counts", "cameras", "merchants", "units", "roads-line", "buildings-fill", "grids-fill"];

function heatQuery() {
  const p = new URLSearchParams();
  if ($("heat-from").value) p.set("from", $("heat-from").value);
  if ($("heat-to").value) p.set("to", $("heat-to").value);
  if ($("heat-category").value) p.set("category", $("heat-category").value);
  if ($("heat-per").checked) p.set("per", "households");
  return p;
}

// The incident points follow the heatmap's filters (dates, category).
function incidentQuery() {
  const p = heatQuery();
  p.delete("per");
  p.set("v", state.data);
  return p;
}

function tileUrls() {
  const v = `v=${state.data}`;
  const hq = heatQuery();
  hq.set("v", state.data);
  return {
    plan: `${origin}/tiles/plan/{z}/{x}/{y}.png?${v}`,
    vector: `${origin}/tiles/all/{z}/{x}/{y}.mvt?${v}`,
    heat: `${origin}/tiles/heatmap/{z}/{x}/{y}.png?${hq}`,
    incidents: `${origin}/tiles/incidents/{z}/{x}/{y}.mvt?${incidentQuery()}`,
  };
}

function style(tj) {
  const u = tileUrls();
  const bounds = tj.bounds;
  const vis = (id) => (LAYER_GROUPS.find((g) => g.id === id).on ? "visible" : "none");
  return {
    version: 8,
    name: `gridgov · ${tj.name}`,
    sources: {
      plan: { type: "raster", tiles: [u.plan], tileSize: 256, bounds, maxzoom: 19 },
      gg: { type: "vector", tiles: [u.vector], bounds, minzoom: 0, maxzoom: 17 },
      heat: { type: "raster", tiles: [u.heat], tileSize: 256, bounds, maxzoom: 18 },
      problems: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      diff: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      sensors: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      panoramas: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      ...(state.me?.may?.every_incident ? { inc: { type: "vector", tiles: [u.incidents], bounds, minzoom: 0, maxzoom: 17 } } : {}),
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#eef0f2" } },
      { id: "plan", type: "raster", source: "plan", layout: { visibility: vis("plan") } },
      { id: "heat", type: "raster", source: "heat", layout: { visibility: vis("heatmap") }, paint: { "raster-opacity": 0.7 } },
      {
        id: "grids-fill", type: "fill", source: "gg", "source-layer": "grids", layout: { visibility: vis("grids") },
        paint: { "fill-color": "#3b6ea5", "fill-opacity": 0.04 },
      },
      {
        id: "water-fill", type: "fill", source: "gg", "source-layer": "water", filter: ["==", ["geometry-type"], "Polygon"],
        layout: { visibility: vis("roads") }, paint: { "fill-color": "#a8cce8", "fill-opacity": 0.8 },
      },
      {
        id: "water-line", type: "line", source: "gg", "source-layer": "water", filter: ["==", ["geometry-type"], "LineString"],
        layout: { visibility: vis("roads") }, paint: { "line-color": "#7fb1d9", "line-width": 2 },
      },
      {
        id: "roads-line", type: "line", source: "gg", "source-layer": "roads", layout: { visibility: vis("roads"), "line-cap": "round" },
        paint: {
          "line-color": ["match", ["get", "class"], ["motorway", "trunk", "primary", "secondary", "tertiary"], "#e0a526", "#8c8273"],
          "line-width": ["interpolate", ["linear"], ["zoom"], 12, 1, 17, 4],
        },
      },
      {
        id: "grids-line", type: "line", source: "gg", "source-layer": "grids", layout: { visibility: vis("grids") },
        paint: { "line-color": "#24476b", "line-width": ["interpolate", ["linear"], ["zoom"], 12, 0.8, 17, 2] },
      },
      {
        id: "buildings-fill", type: "fill", source: "gg", "source-layer": "buildings", minzoom: 14, layout: { visibility: vis("buildings") },
        paint: { "fill-color": "#6d5a45", "fill-opacity": 0.01 },
      },
      {
        id: "buildings", type: "line", source: "gg", "source-layer": "buildings", minzoom: 14, layout: { visibility: vis("buildings") },
        paint: { "line-color": "#6d5a45", "line-width": 0.8 },
      },
      {
        id: "units", type: "circle", source: "gg", "source-layer": "units", minzoom: 16, layout: { visibility: vis("units") },
        paint: { "circle-radius": 3, "circle-color": "#8e44ad" },
      },
      {
        id: "merchants", type: "circle", source: "gg", "source-layer": "merchants", minzoom: 14, layout: { visibility: vis("merchants") },
        paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 2, 18, 5], "circle-color": "#16a085", "circle-stroke-color": "#fff", "circle-stroke-width": 0.8 },
      },
      {
        id: "cameras", type: "circle", source: "gg", "source-layer": "cameras", minzoom: 14, layout: { visibility: vis("cameras") },
        paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 2, 18, 5], "circle-color": "#2c3e50", "circle-stroke-color": "#fff", "circle-stroke-width": 0.8 },
      },
      ...(state.me?.may?.every_incident ? [
        {
          id: "incident-counts", type: "circle", source: "inc", "source-layer": "incidents", maxzoom: 15,
          filter: ["has", "count"], layout: { visibility: vis("incidents") },
          paint: { "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 3, 200, 14], "circle-color": "#e67e22", "circle-opacity": 0.7 },
        },
        {
          id: "incidents", type: "circle", source: "inc", "source-layer": "incidents", minzoom: 15,
          filter: ["!", ["has", "count"]], layout: { visibility: vis("incidents") },
          paint: { "circle-radius": 5, "circle-color": ["case", ["==", ["get", "open"], 1], "#e74c3c", "#95a5a6"], "circle-stroke-color": "#fff", "circle-stroke-width": 1 },
        },
      ] : []),
      {
        id: "moved-buildings", type: "fill", source: "gg", "source-layer": "buildings", filter: ["in", ["get", "code"], ["literal", []]],
        paint: { "fill-color": "#8e44ad", "fill-opacity": 0.55 },
      },
      {
        id: "diff-before", type: "line", source: "diff", filter: ["==", ["get", "side"], "before"],
        paint: { "line-color": "#c0392b", "line-width": 3, "line-dasharray": [2, 2] },
      },
      {
        id: "diff-after", type: "line", source: "diff", filter: ["==", ["get", "side"], "after"],
        paint: { "line-color": "#1565c0", "line-width": 3 },
      },
      {
        // Street views (360° panoramas): a click opens one.
        id: "panoramas", type: "circle", source: "panoramas", layout: { visibility: vis("panoramas") },
        paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 4, 18, 8], "circle-color": "#e67e22", "circle-stroke-color": "#fff", "circle-stroke-width": 2 },
      },
      {
        // Monitoring points: red while their alarm is open.
        id: "sensors", type: "circle", source: "sensors", layout: { visibility: vis("sensors") },
        paint: {
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 4, 18, 9],
          "circle-color": ["case", ["get", "alarm"], "#d32f2f", "#0277bd"],
          "circle-stroke-color": "#fff", "circle-stroke-width": 2,
        },
      },
      {
        id: "grid-highlight", type: "line", source: "gg", "source-layer": "grids", filter: ["==", ["get", "code"], ""],
        paint: { "line-color": "#c0392b", "line-width": 4 },
      },
      {
        id: "problems-fill", type: "fill", source: "problems", filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": ["case", ["==", ["get", "severity"], "error"], "#e74c3c", "#f39c12"], "fill-opacity": 0.45 },
      },
      {
        id: "problems-line", type: "line", source: "problems",
        paint: { "line-color": ["case", ["==", ["get", "severity"], "error"], "#c0392b", "#d68910"], "line-width": 2 },
      },
      {
        id: "problems-point", type: "circle", source: "problems", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 6, "circle-color": "#c0392b" },
      },
    ],
  };
}

// ---------------------------------------------------------------- start

const map = new maplibregl.Map({
  container: "map",
  style: { version: 8, sources: {}, layers: [] },
  center: [0, 0],
  zoom: 1,
  attributionControl: false,
  canvasContextAttributes: { preserveDrawingBuffer: true }, // screenshots for reports
});
map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), "bottom-right");
map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");

async function loadSummary() {
  const { body } = await getJSON("/summary");
  state.summary = new Map(body.areas.map((a) => [a.code, a]));
}

// Signing in: the service sets an HttpOnly cookie that every request of
// this page (tiles included) then carries; the page never sees the token.
async function signIn() {
  const { body: me } = await getJSON("/me");
  if (me.signed_in) return me;
  const form = $("login");
  form.hidden = false;
  $("login-name").focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await getJSON("/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: $("login-name").value, password: $("login-password").value }),
        });
        $("login-password").value = "";
        form.hidden = true;
        const { body: signed } = await getJSON("/me");
        resolve(signed);
      } catch (err) {
        $("login-error").textContent = err.status === 401 ? t("error.login") : err.message;
      }
    });
  });
}

$("logout").addEventListener("click", async () => {
  await fetch("/logout", { method: "POST" });
  window.location.reload();
});

function buildLanguageSwitch() {
  const sel = $("lang");
  sel.replaceChildren(...i18n.languages.map((l) => el("option", { value: l.code }, l.name)));
  sel.value = i18n.lang;
  sel.addEventListener("change", () => chooseLanguage(sel.value));
}

async function start() {
  await loadCatalogue();
  applyI18n();
  document.title = t(dashboard ? "dash.title" : "app.title");
  buildLanguageSwitch();
  $("planner-reason").value = t("planner.reason.default");
  $("switch-page").textContent = t(dashboard ? "bar.map" : "bar.dashboard");
  $("switch-page").href = dashboard ? "/map" : "/dashboard";
  if (dashboard) document.body.classList.add("dashboard");
  const me = await signIn();
  state.me = me;
  $("who").textContent = `${me.user}${paren(label("role", me.role))}`;
  $("logout").hidden = false;
  // Department handlers and residents work on their cases, not the map.
  if (me.role === "department_handler" || me.role === "public") {
    const box = $("toast");
    box.textContent = t("login.not_map", { user: me.user });
    box.hidden = false;
    return;
  }
  if (!me.may?.edit_boundaries) $("planner").hidden = true;
  if (!me.may?.every_incident) $("switch-page").hidden = true;
  const [{ body: tj }, { body: legend }, { body: coll }] = await Promise.all([
    getJSON("/tiles.json"),
    getJSON("/tiles/heatmap/legend.json"),
    getJSON("/collections/incidents"),
    loadSummary(),
  ]);
  state.tilejson = tj;
  state.version = Number(tj.version);
  state.data = Number(tj.data_version);
  state.categories = legend.categories;
  $("version").textContent = `v${state.version}`;

  for (const c of state.categories) $("heat-category").append(el("option", { value: c }, label("category", c)));
  const interval = coll?.extent?.temporal?.interval?.[0];
  if (interval) {
    state.interval = [localDate(interval[0]), localDate(interval[1])];
    for (const id of ["heat-from", "heat-to"]) {
      $(id).min = state.interval[0];
      $(id).max = state.interval[1];
    }
  }
  setupSlider();
  buildLayerToggles();
  map.setStyle(style(tj));
  map.jumpTo({ center: [tj.center[0], tj.center[1]], zoom: tj.center[2] });
  map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding: 20, animate: false });
  if (tj.attribution) map.addControl(new maplibregl.AttributionControl({ customAttribution: tj.attribution, compact: true }));
  renderLegend(legend);
  if (me.may?.edit_boundaries) loadHistory().catch((e) => toast(e.message));
  if (dashboard) await startDashboard();
  await new Promise((resolve) => map.once("idle", resolve));
  await loadSensors().catch((e) => toast(e.message));
  await loadPanoramas().catch((e) => toast(e.message));
  setInterval(pollVersion, 5000);
}

// ---------------------------------------------------------------- monitoring points

/** The monitoring points onto the map, red where an alarm is open. */
async function loadSensors() {
  const { body } = await getJSON("/sensors");
  state.sensors = new Map(body.sensors.map((s) => [s.code, s]));
  const features = body.sensors.map((s) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: s.location },
    properties: { code: s.code, name: s.name, alarm: Boolean(s.alarm) },
  }));
  map.getSource("sensors")?.setData({ type: "FeatureCollection", features });
}

/** The street views onto the map. */
async function loadPanoramas() {
  const { body } = await getJSON("/panoramas");
  map.getSource("panoramas")?.setData(body);
}

/** A line chart of readings with the alarm threshold dashed across it. */
function readingsChart(series) {
  const w = 300, h = 120, pad = 28;
  const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, class: "readings", role: "img" });
  const rows = series.readings;
  if (!rows.length) return el("p", { class: "hint" }, t("sensor.none"));
  const ts = rows.map((r) => Date.parse(r[0]));
  const vs = rows.map((r) => r[1]);
  const lo = Math.min(0, ...vs), hi = Math.max(series.threshold, ...vs) * 1.1 || 1;
  const t0 = ts[0], t1 = Math.max(ts[ts.length - 1], t0 + 1);
  const x = (v) => pad + ((v - t0) / (t1 - t0)) * (w - pad - 6);
  const y = (v) => h - 16 - ((v - lo) / (hi - lo)) * (h - 26);
  svg.append(svgEl("line", { class: "axis", x1: pad, y1: h - 16, x2: w - 6, y2: h - 16, stroke: "#888" }));
  svg.append(svgEl("line", { class: "threshold", x1: pad, y1: y(series.threshold), x2: w - 6, y2: y(series.threshold), stroke: "#d32f2f", "stroke-dasharray": "4 3" }));
  svg.append(svgEl("text", { x: 2, y: y(series.threshold) + 4, fill: "#d32f2f", "font-size": 10 }, num(series.threshold, 1)));
  svg.append(svgEl("polyline", { fill: "none", stroke: "#0277bd", "stroke-width": 2, points: rows.map((_, k) => `${x(ts[k])},${y(vs[k])}`).join(" ") }));
  svg.append(svgEl("text", { x: pad, y: h - 3, "font-size": 10 }, time(rows[0][0])));
  svg.append(svgEl("text", { x: w - 6, y: h - 3, "font-size": 10, "text-anchor": "end" }, time(rows[rows.length - 1][0])));
  return el("figure", { class: "sensor-chart" }, el("figcaption", {}, t("sensor.chart", { unit: series.unit })), svg);
}

async function openSensor(code) {
  const s = state.sensors?.get(code);
  if (!s) return;
  const [{ body: series }, r] = await Promise.all([
    getJSON(`/sensors/${encodeURIComponent(code)}/readings?hours=24`),
    lookupPoint(s.location[0], s.location[1]),
  ]);
  const rows = [
    [label("field", "code"), s.code],
    [t("sensor.value"), s.last ? `${num(s.last.value, 1)} ${s.unit} · ${time(s.last.at)}` : t("sensor.none")],
    [t("sensor.threshold"), `${num(s.threshold, 1)} ${s.unit}`],
    [t("sensor.alarm"), s.alarm ? t("sensor.alarm.case", { id: s.alarm.case }) : t("sensor.normal")],
  ];
  const extra = [readingsChart(series)];
  if (s.alarm) extra.push(el("p", {}, el("button", { type: "button", class: "open-alarm", onclick: () => openCase(s.alarm.case).catch((e) => toast(e.message)) }, t("sensor.open_case"))));
  showCard(t("sensor.title", { name: s.name }), rows, r.chain, extra);
  $("card-body").dataset.sensor = code;
}

function buildLayerToggles() {
  const box = $("layers");
  for (const g of LAYER_GROUPS) {
    if (g.every && !state.me?.may?.every_incident) continue;
    const cb = el("input", { type: "checkbox", id: `layer-${g.id}`, "data-layer": g.id });
    cb.checked = g.on;
    cb.addEventListener("change", () => {
      g.on = cb.checked;
      for (const l of g.layers) if (map.getLayer(l)) map.setLayoutProperty(l, "visibility", g.on ? "visible" : "none");
    });
    box.append(el("label", {}, cb, " ", t(`layer.${g.id}`)));
  }
}

// ---------------------------------------------------------------- live updates

async function pollVersion() {
  try {
    const { body } = await getJSON("/health");
    if (body.data_version !== state.data) await refreshData(body.version, body.data_version);
  } catch {
    // The service is restarting; the next poll tries again.
  }
}

async function refreshData(version, data) {
  state.version = version;
  state.data = data;
  $("version").textContent = `v${version}`;
  const u = tileUrls();
  map.getSource("plan").setTiles([u.plan]);
  map.getSource("gg").setTiles([u.vector]);
  map.getSource("heat").setTiles([u.heat]);
  map.getSource("inc")?.setTiles([u.incidents]);
  // An alarm opening or closing a case moves the data version.
  await Promise.all([loadSummary(), loadSensors()]);
}

// ---------------------------------------------------------------- heatmap

// The heatmap, the incident points and (on the dashboard) the charts
// follow the same filters.
async function refreshHeat() {
  const q = heatQuery();
  try {
    const { body } = await getJSON(`/tiles/heatmap/legend.json?${q}`);
    renderLegend(body);
    const u = tileUrls();
    map.getSource("heat").setTiles([u.heat]);
    map.getSource("inc")?.setTiles([u.incidents]);
    $("heat-window").textContent = $("heat-from").value || $("heat-to").value
      ? t("heat.window", { from: $("heat-from").value || "…", to: $("heat-to").value || "…" }) : "";
    if (dashboard) await refreshCharts();
  } catch (e) {
    toast(e.message);
  }
}

function renderLegend(body) {
  const l = body.legend;
  const stops = l.stops.map((s) => `${s.color} ${(100 * s.value) / (l.max || 1)}%`).join(", ");
  const unit = t($("heat-per").checked ? "unit.incidents_per_1000_households_per_km2" : "unit.incidents_per_km2");
  $("legend").replaceChildren(
    el("div", { class: "bar", style: `background: linear-gradient(to right, ${stops})` }),
    el("div", { class: "ticks" }, el("span", {}, "0"), el("span", {}, fmt.format(l.max / 2)), el("span", {}, fmt.format(l.max))),
    el("div", { class: "unit" }, t("heat.unit", { unit, m: body.bandwidth_m })),
  );
}

for (const id of ["heat-from", "heat-to", "heat-category", "heat-per"]) $(id).addEventListener("change", refreshHeat);

// The time slider: a window of a day or a week over the incidents' dates,
// moved by hand or played forward.
const DAY_MS = 86_400_000;
const dayOf = (iso) => Date.parse(`${iso}T00:00:00Z`) / DAY_MS;
const isoOf = (d) => new Date(d * DAY_MS).toISOString().slice(0, 10);
let playTimer = null;

function stepDays() { return $("heat-step").value === "week" ? 7 : 1; }

function setupSlider() {
  if (!state.interval) { $("slider").hidden = true; return; }
  const [a, b] = state.interval.map(dayOf);
  const r = $("heat-time");
  r.min = "0";
  r.max = String(Math.max(0, Math.floor((b - a) / stepDays())));
  r.value = r.max;
}

async function applySlider() {
  const a = dayOf(state.interval[0]);
  const b = dayOf(state.interval[1]);
  const n = stepDays();
  const from = a + Number($("heat-time").value) * n;
  $("heat-from").value = isoOf(from);
  $("heat-to").value = isoOf(Math.min(b, from + n - 1));
  await refreshHeat();
}

$("heat-time").addEventListener("input", applySlider);
$("heat-step").addEventListener("change", () => { setupSlider(); $("heat-time").value = "0"; applySlider(); });
$("heat-play").addEventListener("click", () => {
  if (playTimer) { stopPlaying(); return; }
  const r = $("heat-time");
  if (Number(r.value) >= Number(r.max)) r.value = "0";
  $("heat-play").textContent = t("heat.pause");
  applySlider();
  playTimer = setInterval(() => {
    if (Number(r.value) >= Number(r.max)) { stopPlaying(); return; }
    r.value = String(Number(r.value) + 1);
    applySlider();
  }, 1500);
});
function stopPlaying() {
  clearInterval(playTimer);
  playTimer = null;
  $("heat-play").textContent = t("heat.play");
}

// ---------------------------------------------------------------- info card

// Whether the signed-in user may print a grid's signs and cards (the
// service checks again): admins and the grid's own staff.
function mayPrint(code) {
  const me = state.me || {};
  return me.role === "admin" || (me.role === "grid_staff" && (me.grids || []).includes(code));
}

function showCard(title, rows, chain, extra = [], building = null) {
  const body = $("card-body");
  const table = el("table", {}, rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
  const parts = [el("h3", {}, title), table, ...extra];
  if (chain && chain.length) {
    const grid = chain[0];
    parts.push(el("h4", {}, t("card.chain")));
    parts.push(el("ol", { class: "chain" }, chain.map((a) => el("li", {}, `${a.name}${paren(a.code)} · ${label("level", a.level)}${a.kind ? ` · ${label("kind", a.kind)}` : ""}`))));
    // The level between the grid and its units: the building and its leaders.
    if (building) {
      parts.push(el("h4", {}, t("card.building_level")));
      const leaders = building.leaders || [];
      parts.push(el("table", { class: "leaders" },
        el("tr", {}, el("td", {}, label("field", "building")), el("td", {}, building.address || building.code || "")),
        ...leaders.map((s) => el("tr", {}, el("td", {}, label("staff", s.role)),
          el("td", {}, `${s.name} ${s.phone || ""}`, s.party_member ? el("span", { class: "party" }, ` ${t("cards.party")}`) : "")))));
    }
    const staff = grid.staff || [];
    if (staff.length) {
      parts.push(el("h4", {}, t("card.staff")));
      parts.push(el("table", {}, staff.map((s) => el("tr", {}, el("td", {}, label("staff", s.role)), el("td", {}, `${s.name} ${s.phone || ""}`)))));
    }
    if (grid.level === "grid" && mayPrint(grid.code)) {
      const link = (kind, key) => el("a", { href: `/cards?grid=${encodeURIComponent(grid.code)}&kind=${kind}`, target: "_blank", rel: "noopener", class: `print-${kind}` }, t(key));
      parts.push(el("p", { class: "print" }, `${t("card.print")}：`, link("sign", "card.print_signs"), " · ", link("card", "card.print_cards")));
    }
    const counts = state.summary.get(grid.code)?.counts;
    if (counts) {
      parts.push(el("h4", {}, t("card.counts")));
      parts.push(el("table", { class: "counts" }, Object.entries(counts).map(([k, v]) => el("tr", {}, el("td", {}, label("count", k)), el("td", {}, fmt.format(v))))));
    }
  }
  body.replaceChildren(...parts);
  body.dataset.grid = chain?.[0]?.code ?? "";
  $("card").hidden = false;
}
$("card-close").addEventListener("click", () => { $("card").hidden = true; });

function highlightGrid(code) {
  state.highlighted = code;
  map.setFilter("grid-highlight", ["==", ["get", "code"], code || ""]);
}

async function lookupPoint(lon, lat, crs = "wgs84") {
  const { body } = await getJSON(`/lookup?lon=${lon}&lat=${lat}&crs=${crs}`);
  return body;
}

const TITLES = {
  grids: (p) => t("card.grid", { name: p.name }),
  buildings: (p) => p.address || t("card.building", { code: p.code }),
  units: (p) => t("card.unit", { label: p.label }),
  roads: (p) => t("card.road", { name: p.name || t("card.unnamed_road"), class: label("road", p.class) }),
  merchants: (p) => t("card.merchant", { name: p.name }),
  cameras: () => t("card.camera"),
  incidents: (p) => (p.count ? t("card.incidents", { n: p.count }) : t("card.incident", { category: label("category", p.category) })),
};

// A tile feature's properties as the card's rows, codes shown as words.
function featureRows(props) {
  const kinds = { category: "category", status: "status", source: "source", level: "level", kind: "kind" };
  return Object.entries(props).map(([k, v]) => [
    label("field", k),
    kinds[k] ? label(kinds[k], v) : typeof v === "number" ? fmt.format(v) : v,
  ]);
}

map.on("click", async (e) => {
  if (state.planner) return plannerClick(e);
  const hits = map.queryRenderedFeatures(e.point, { layers: CLICKABLE.filter((l) => map.getLayer(l)) });
  if (!hits.length) return;
  const f = hits[0];
  const layer = f.sourceLayer;
  try {
    // A single case: its own card, with its history and steps.
    if (layer === "incidents" && !f.properties.count && f.id) return await openCase(Number(f.id));
    if (f.layer.id === "sensors") return await openSensor(f.properties.code);
    if (f.layer.id === "panoramas") { window.open(`/panorama?id=${f.properties.id}`, "_blank"); return; }
    const r = await lookupPoint(e.lngLat.lng, e.lngLat.lat);
    const chain = r.chain.length ? r.chain : r.nearest ? [r.nearest] : [];
    showCard((TITLES[layer] || (() => layer))(f.properties), featureRows(f.properties), chain, [], r.building);
    highlightGrid(chain[0]?.code);
    if (dashboard && layer === "grids") await setGridFilter(f.properties.code, f.properties.name);
  } catch (err) {
    toast(err.message);
  }
});
for (const l of CLICKABLE) {
  map.on("mouseenter", l, () => { if (!state.planner) map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", l, () => { if (!state.planner) map.getCanvas().style.cursor = ""; });
}

// ---------------------------------------------------------------- case card
//
// A case: its number, when and how it came, what it is about (the
// description as the role may see it), its deadline, its history and the
// steps this user may take now. Steps go through the same API as any
// client, with the case's version as If-Match.

// What a step needs besides a note.
const STEP_FIELDS = {
  reject: () => ({ reason: $("case-note").value.trim() }),
  dispatch: () => ({ to: { kind: "department", name: $("case-note").value.trim() } }),
  evaluate: () => ({ satisfaction: Number($("case-rating").value) }),
};

// A case's reporter in one line: name, phone, email, the address as written.
function reporterText(r) {
  return [r.name, r.phone, r.email, r.address].filter(Boolean).join(" · ");
}

async function openCase(id) {
  const { body: c, headers } = await getJSON(`/incidents/${id}`);
  const x = c.incident;
  const rows = [
    [t("case.id"), String(c.id)],
    [t("case.reported_at"), time(x.reported_at)],
    [t("case.source"), label("source", x.source)],
    [t("case.status"), label("status", c.state.status)],
    [t("case.level"), label("handling", c.state.level)],
    [t("case.grid"), c.route?.grid ? `${c.route.grid.name}${paren(c.route.grid.code)}` : ""],
    [t("case.assignee"), c.state.assignee ? `${c.state.assignee.name}` : ""],
    [t("case.description"), x.description || t("case.hidden")],
    // What the resident gave about themselves, to those who may read it.
    ...(x.reporter && reporterText(x.reporter) ? [[t("case.reporter"), reporterText(x.reporter)]] : []),
    [t("case.deadline"), c.deadline ? time(c.deadline) + (c.overdue ? ` · ${t("case.overdue", { h: num(c.overdue.hours_over) })}` : "") : ""],
  ];
  const history = el("ol", { class: "history", id: "case-history" }, (c.history || []).map((e) =>
    el("li", {}, `${time(e.at)} · ${label("action", e.action)} · ${e.actor}${e.note ? ` · ${e.note}` : ""}`)));
  const steps = (c.allowed || []).filter((a) => a !== "merge" && a !== "move");
  const extra = [el("h4", {}, t("case.history")), history];
  // Every photo of the case: the staff's and the resident's.
  if (c.photos?.length) {
    extra.push(el("h4", {}, t("case.photos")), el("div", { class: "thumbs", id: "case-photos" }, c.photos.map((p) =>
      el("a", { href: `/photos/${p.id}`, target: "_blank", rel: "noopener" },
        el("img", { src: `/photos/${p.id}?thumb=true`, alt: t("case.photo_by", { by: p.by }), loading: "lazy" })))));
  }
  if (steps.length) {
    extra.push(el("h4", {}, t("case.actions")));
    extra.push(el("label", {}, t("case.note"), " ", el("input", { id: "case-note" })));
    if (steps.includes("evaluate")) {
      extra.push(el("select", { id: "case-rating" }, [5, 4, 3, 2, 1].map((n) => el("option", { value: String(n) }, "★".repeat(n)))));
    }
    extra.push(el("div", { class: "buttons", id: "case-steps" }, steps.map((a) => el("button", {
      type: "button", "data-action": a,
      onclick: () => takeStep(c.id, headers.get("etag"), a).catch((err) => toast(err.message)),
    }, label("action", a)))));
  }
  showCard(t("case.title", { id: c.id, category: label("category", x.category) }), rows, null, extra);
  $("card-body").dataset.case = String(c.id);
}

async function takeStep(id, etag, action) {
  const body = { action, note: $("case-note")?.value.trim() ?? "", ...(STEP_FIELDS[action]?.() ?? {}) };
  await getJSON(`/incidents/${id}/steps`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(etag ? { "if-match": etag } : {}) },
    body: JSON.stringify(body),
  });
  toast(t("case.done", { action: label("action", action) }));
  await openCase(id);
}

// ---------------------------------------------------------------- search

const COORDS = /^\s*(-?\d+(?:\.\d+)?)\s*[,，\s]\s*(-?\d+(?:\.\d+)?)\s*$/;

function bboxOf(geometry) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const visit = (c) => {
    if (typeof c[0] === "number") {
      w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
    } else c.forEach(visit);
  };
  visit(geometry.coordinates);
  return [w, s, e, n];
}

// The coordinate system of typed coordinates, remembered on this device
// (a phone map's GCJ-02 read as WGS 84 lands some 500 m off).
const CRS_KEY = "gridgov.crs";
try {
  const saved = localStorage.getItem(CRS_KEY);
  if (saved && [...$("crs").options].some((o) => o.value === saved)) $("crs").value = saved;
} catch {
  // Storage refused (private mode): the choice lasts for this page only.
}
$("crs").addEventListener("change", () => {
  try { localStorage.setItem(CRS_KEY, $("crs").value); } catch { /* see above */ }
});

// A pin on the place searched for.
let searchPin = null;
function pinAt(lonlat) {
  if (!searchPin) searchPin = new maplibregl.Marker({ color: "#c0392b" });
  searchPin.setLngLat(lonlat).addTo(map);
  searchPin.getElement().id = "search-pin";
}

// Whether a point lies in mainland China's rough box, where phone maps
// give GCJ-02.
const inChina = (lon, lat) => lon > 73 && lon < 136 && lat > 18 && lat < 54;

async function search(q) {
  const m = COORDS.exec(q);
  if (m) {
    let lon = Number(m[1]);
    let lat = Number(m[2]);
    // People type "lat, lon" as often as "lon, lat"; in China longitude is the larger.
    if (Math.abs(lon) <= 90 && Math.abs(lat) > 90) [lon, lat] = [lat, lon];
    const crs = $("crs").value;
    const r = await lookupPoint(lon, lat, crs);
    const [wlon, wlat] = r.wgs84;
    const chain = r.chain.length ? r.chain : r.nearest ? [r.nearest] : [];
    map.flyTo({ center: [wlon, wlat], zoom: Math.max(map.getZoom(), 17) });
    pinAt([wlon, wlat]);
    const rows = [[t("card.coordinates"), `${wlon.toFixed(6)}, ${wlat.toFixed(6)} (WGS 84)`]];
    if (!r.chain.length) rows.push([t("card.outside"), t("card.nearest", { m: fmt.format(r.border_distance_m) })]);
    // Coordinates copied from a phone map in China are GCJ-02 (some
    // 500 m off when read as WGS 84): when they would land in another
    // grid read so, offer that reading.
    const extra = [];
    if (crs === "wgs84" && inChina(lon, lat)) {
      const g = await lookupPoint(lon, lat, "gcj02");
      if (g.chain.length && g.chain[0].code !== chain[0]?.code) {
        extra.push(el("p", { class: "hint", id: "gcj-hint" }, t("card.gcj_hint"), " ",
          el("button", { type: "button", id: "gcj-use", onclick: () => {
            $("crs").value = "gcj02";
            $("crs").dispatchEvent(new Event("change"));
            search(q).catch((err) => toast(err.message));
          } }, t("card.gcj_use"))));
      }
    }
    showCard(chain[0] ? chain[0].name : t("card.outside_district"), rows, chain, extra, r.building);
    highlightGrid(chain[0]?.code);
    return chain[0]?.code ?? null;
  }
  const { body } = await getJSON(`/lookup?address=${encodeURIComponent(q)}&limit=5`);
  const best = body.candidates[0];
  if (!best) {
    toast(t("card.no_match", { q }));
    showCard(t("card.no_match_title", { q }), Object.entries(body.parsed).map(([k, v]) => [label("field", k), String(v)]), null);
    return null;
  }
  const { body: b } = await getJSON(`/collections/buildings/items/${encodeURIComponent(best.building)}`);
  const [w, s, e, n] = bboxOf(b.geometry);
  map.fitBounds([[w, s], [e, n]], { maxZoom: 18, padding: 80 });
  pinAt([(w + e) / 2, (s + n) / 2]);
  const rows = [
    [t("card.address"), best.address],
    [label("field", "building"), best.building],
    [label("field", "unit"), best.unit],
    [t("card.confidence"), fmt.format(best.confidence * 100) + "%"],
    [t("card.matched"), best.matched.map((k) => label("field", k)).join("、")],
  ];
  if (body.candidates.length > 1) rows.push([t("card.other_matches"), body.candidates.slice(1).map((c) => c.address).join("；")]);
  showCard(best.address, rows, best.chain, [], { code: best.building, address: best.address, leaders: best.leaders });
  highlightGrid(best.chain[0]?.code);
  return best.chain[0]?.code ?? null;
}

$("search").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = $("q").value.trim();
  if (!q) return;
  try { await search(q); } catch (err) { toast(err.message); }
});

$("toggle-panel").addEventListener("click", () => {
  const p = $("panel");
  p.classList.toggle("closed");
  $("toggle-panel").setAttribute("aria-expanded", String(!p.classList.contains("closed")));
});
if (window.matchMedia("(max-width: 640px)").matches) {
  $("panel").classList.add("closed");
  $("toggle-panel").setAttribute("aria-expanded", "false");
}

// ---------------------------------------------------------------- planner
//
// A boundary edit loads the chosen grid and its neighbours into terra-draw.
// Editing is topological: a vertex shared by several grids moves in all of
// them, and a vertex inserted on a shared edge is inserted in the neighbour
// too, so a reshaped border opens no gap and makes no overlap. Points snap
// to neighbours' vertices.

const EPS = 1e-9;
const same = (a, b) => Math.abs(a[0] - b[0]) < EPS && Math.abs(a[1] - b[1]) < EPS;

let draw = null;
let selectedId = null;

// Snaps a dragged point to a neighbour's vertex within 10 px. Vertices the
// selected grid already shares are left out: they move with the drag.
function snapToNeighbours(event) {
  const p = state.planner;
  const own = p?.shapes.get(selectedId)?.ring ?? [];
  let best = null;
  let bestD = 10;
  for (const [id, s] of p?.shapes ?? []) {
    if (id === selectedId) continue;
    for (const c of s.ring) {
      if (own.some((o) => same(o, c))) continue;
      const q = map.project(c);
      const d = Math.hypot(q.x - event.containerX, q.y - event.containerY);
      if (d < bestD) { bestD = d; best = c; }
    }
  }
  return best ? [best[0], best[1]] : undefined;
}

function ensureDraw() {
  if (draw) return draw;
  draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map, coordinatePrecision: 9 }),
    modes: [
      new TerraDrawPolygonMode(),
      new TerraDrawSelectMode({
        flags: {
          polygon: {
            feature: {
              draggable: false,
              coordinates: { draggable: true, midpoints: true, deletable: true, snappable: { toCustom: snapToNeighbours } },
            },
          },
        },
      }),
    ],
  });
  draw.start();
  draw.on("change", onDrawChange);
  draw.on("select", (id) => { selectedId = id; });
  draw.on("deselect", () => { selectedId = null; });
  return draw;
}

function ringOf(id) {
  return draw.getSnapshotFeature(id)?.geometry.coordinates[0] ?? null;
}

let syncing = false;
function onDrawChange(ids, type) {
  const p = state.planner;
  if (syncing || !p || type !== "update") return;
  for (const id of ids) {
    const shape = p.shapes.get(id);
    const next = ringOf(id);
    if (!shape || !next) continue;
    const prev = shape.ring;
    const edits = new Map(); // other id → ring
    const ringFor = (oid) => edits.get(oid) ?? p.shapes.get(oid).ring.map((c) => c.slice());
    if (next.length === prev.length) {
      for (let i = 0; i < prev.length; i++) {
        if (same(prev[i], next[i])) continue;
        for (const [oid] of p.shapes) {
          if (oid === id) continue;
          const r = ringFor(oid);
          let hit = false;
          for (const c of r) if (same(c, prev[i])) { c[0] = next[i][0]; c[1] = next[i][1]; hit = true; }
          if (hit) edits.set(oid, r);
        }
      }
    } else if (next.length === prev.length + 1) {
      // A midpoint became a vertex: find it and add it to neighbours sharing that edge.
      let k = 0;
      while (k < prev.length && same(prev[k], next[k])) k++;
      const a = prev[k - 1];
      const b = prev[k];
      if (a && b) {
        for (const [oid] of p.shapes) {
          if (oid === id) continue;
          const r = ringFor(oid);
          for (let j = 0; j + 1 < r.length; j++) {
            if ((same(r[j], a) && same(r[j + 1], b)) || (same(r[j], b) && same(r[j + 1], a))) {
              r.splice(j + 1, 0, next[k].slice());
              edits.set(oid, r);
              break;
            }
          }
        }
      }
    }
    const moved = next.length !== prev.length || next.some((c, i) => !same(c, prev[i]));
    if (!moved) continue;
    // A change that would leave any grid invalid is undone on the spot,
    // and the planner is told why.
    const why = refusal(id, next, edits);
    if (why) {
      syncing = true;
      try {
        draw.updateFeatureGeometry(id, { type: "Polygon", coordinates: [prev] });
      } finally {
        syncing = false;
      }
      showRefusal(why);
      continue;
    }
    shape.ring = next.map((c) => c.slice());
    p.dirty.add(shape.code);
    syncing = true;
    try {
      for (const [oid, r] of edits) {
        draw.updateFeatureGeometry(oid, { type: "Polygon", coordinates: [r] });
        const o = p.shapes.get(oid);
        o.ring = r;
        p.dirty.add(o.code);
      }
    } finally {
      syncing = false;
    }
  }
  p.draftId = null;
  $("planner-publish").disabled = true;
  if (p.dirty.size) $("planner-grid").textContent = t("planner.changed", { codes: [...p.dirty].join("、") });
}

// ---- the checks a drag must pass

const orient = (a, b, c) => Math.sign((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]));

// Whether segments ab and cd cross properly (each passes to both sides of
// the other). Touching is left to the service's validation: grids meet
// at T-junctions all the time.
function segmentsMeet(a, b, c, d) {
  if (same(a, c) || same(a, d) || same(b, c) || same(b, d)) return false;
  return orient(a, b, c) * orient(a, b, d) < 0 && orient(c, d, a) * orient(c, d, b) < 0;
}

function crossesItself(ring) {
  const n = ring.length - 1;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (j === i + 1 || (i === 0 && j === n - 1)) continue;
      if (segmentsMeet(ring[i], ring[i + 1], ring[j], ring[j + 1])) return true;
    }
  }
  return false;
}

function strictlyInside(p, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 2; i < ring.length - 1; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (orient(ring[j], ring[i], p) === 0 && Math.min(xi, xj) - EPS <= p[0] && p[0] <= Math.max(xi, xj) + EPS
      && Math.min(yi, yj) - EPS <= p[1] && p[1] <= Math.max(yi, yj) + EPS) return false; // on the border
    if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function overlaps(a, b) {
  for (let i = 0; i + 1 < a.length; i++) {
    for (let j = 0; j + 1 < b.length; j++) if (segmentsMeet(a[i], a[i + 1], b[j], b[j + 1])) return true;
  }
  return a.some((c) => !b.some((o) => same(o, c)) && strictlyInside(c, b))
    || b.some((c) => !a.some((o) => same(o, c)) && strictlyInside(c, a));
}

// Why the shapes after a change (`next` for the dragged one, `edits` for
// neighbours it drags along) would not make valid grids; null when they do.
function refusal(id, next, edits) {
  const p = state.planner;
  const after = new Map([...p.shapes].map(([k, v]) => [k, v.ring]));
  after.set(id, next);
  for (const [oid, r] of edits) after.set(oid, r);
  const changed = [id, ...edits.keys()];
  for (const k of changed) {
    const ring = after.get(k);
    const code = p.shapes.get(k).code;
    const distinct = new Set(ring.slice(0, -1).map((c) => `${c[0]},${c[1]}`));
    if (distinct.size < 3) return t("planner.refused.degenerate", { code });
    if (crossesItself(ring)) return t("planner.refused.self", { code });
  }
  for (const k of changed) {
    for (const [o, ring] of after) {
      // Exclusive grids lie over basic ones by design: only grids of one
      // kind may not overlap.
      if (o === k || (changed.includes(o) && o < k) || p.shapes.get(o).kind !== p.shapes.get(k).kind) continue;
      if (overlaps(after.get(k), ring)) {
        return t("planner.refused.overlap", { code: p.shapes.get(k).code, other: p.shapes.get(o).code });
      }
    }
  }
  return null;
}

function showRefusal(why) {
  const msg = t("planner.refused", { why });
  toast(msg);
  const box = $("planner-refused");
  box.textContent = msg;
  box.hidden = false;
}

async function plannerClick(e) {
  if (state.planner.loaded) return; // terra-draw handles clicks on the open edit
  const hits = map.queryRenderedFeatures(e.point, { layers: ["grids-fill"] });
  if (!hits.length) { toast(t("planner.click_grid")); return; }
  await openEdit(hits[0].properties.code);
}

async function openEdit(code) {
  const p = state.planner;
  p.loaded = true;
  const { body: grid, headers } = await getJSON(`/grids/${encodeURIComponent(code)}`);
  const [w, s, e, n] = bboxOf(grid.geometry);
  const pad = 0.0005;
  const { body: near } = await getJSON(`/collections/grids/items?bbox=${w - pad},${s - pad},${e + pad},${n + pad}&limit=200`);
  ensureDraw();
  draw.setMode("select");
  p.grids = new Map();
  const features = [];
  const add = (g, version) => {
    const polys = g.geometry.type === "MultiPolygon" ? g.geometry.coordinates : [g.geometry.coordinates];
    p.grids.set(g.code, { version, parts: polys.map((poly) => poly.slice(1)) });
    polys.forEach((poly, part) => {
      const id = draw.getFeatureId();
      p.shapes.set(id, { code: g.code, kind: g.kind, part, ring: poly[0].map((c) => c.slice()) });
      features.push({ id, type: "Feature", geometry: { type: "Polygon", coordinates: [poly[0]] }, properties: { mode: "polygon", code: g.code } });
    });
  };
  const kindOf = (c) => near.features.find((f) => f.id === c)?.properties.kind ?? "basic";
  add({ code, kind: kindOf(code), geometry: grid.geometry }, Number(headers.get("etag")?.replaceAll('"', "")));
  const others = near.features.filter((f) => f.id !== code && f.properties.level === "grid");
  const versions = await Promise.all(others.map((f) => getJSON(`/grids/${encodeURIComponent(f.id)}`).then((r) => Number(r.headers.get("etag")?.replaceAll('"', "")))));
  others.forEach((f, i) => add({ code: f.id, kind: f.properties.kind ?? "basic", geometry: f.geometry }, versions[i]));
  const results = draw.addFeatures(features);
  const bad = results.filter((r) => !r.valid);
  if (bad.length) toast(t("planner.not_opened", { n: bad.length, reason: bad[0].reason }));
  const first = [...p.shapes.entries()].find(([, s]) => s.code === code);
  if (first) draw.selectFeature(first[0]);
  $("planner-tools").hidden = false;
  $("planner-grid").textContent = t("planner.editing", { code, n: others.length });
  $("planner-author").textContent = state.me.user;
  $("planner-result").replaceChildren();
  $("planner-refused").hidden = true;
  map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 18 });
}

function closeEdit() {
  if (draw) draw.clear();
  state.planner = $("planner-mode").checked ? newPlanner() : null;
  $("planner-tools").hidden = true;
  $("planner-refused").hidden = true;
  $("planner-publish").disabled = true;
  map.getSource("problems").setData({ type: "FeatureCollection", features: [] });
  map.setFilter("moved-buildings", ["in", ["get", "code"], ["literal", []]]);
}

function newPlanner() {
  return { loaded: false, shapes: new Map(), grids: new Map(), dirty: new Set(), draftId: null };
}

function changedGeometry(code) {
  const p = state.planner;
  const g = p.grids.get(code);
  const parts = [...p.shapes.values()].filter((s) => s.code === code).sort((a, b) => a.part - b.part);
  const coordinates = parts.map((s) => [s.ring, ...(g.parts[s.part] || [])]);
  return { type: "MultiPolygon", coordinates };
}

// The buildings a preview moves, with what the loaded tiles say of them.
function movingBuildings(codes) {
  const want = new Set(codes);
  const seen = new Map();
  for (const f of map.querySourceFeatures("gg", { sourceLayer: "buildings" })) {
    const c = f.properties.code;
    if (want.has(c) && !seen.has(c)) seen.set(c, f.properties);
  }
  return codes.map((c) => ({ code: c, address: seen.get(c)?.address, households: seen.get(c)?.households }));
}

// A validation problem in the page's language: the sentence of its kind
// with the areas, size and count it names; in English (or for a kind the
// catalogue lacks) the service's own sentence, which also names the place.
function problemText(p) {
  const key = `planner.problem.${p.kind}`;
  if (i18n.lang.startsWith("en") || !has(key)) return p.message;
  const ids = (p.ids ?? []).map((id) => String(id).replace(/^building:/, "")).join(t("report.sep"));
  const area = p.area_m2 ? t("planner.problem.area", { m2: num(p.area_m2, 0) }) : "";
  return t(key, { ids, area, count: p.count ?? "" });
}

// A problem in the list: clicking it shows where it is.
function problemItem(f) {
  const sev = f.properties.severity;
  const li = el("li", { class: sev === "error" ? "error" : "warning", "data-kind": f.properties.kind, title: f.properties.message },
    problemText(f.properties));
  if (f.geometry) {
    li.classList.add("located");
    li.addEventListener("click", () => {
      const [w, s, e, n] = bboxOf(f.geometry);
      map.fitBounds([[w, s], [e, n]], { padding: 120, maxZoom: 19 });
    });
  }
  return li;
}

// A draft's checks in `out`: the errors and warnings it adds, who moves
// where, the moving buildings highlighted on the map; returns the
// validation.
async function showDraftChecks(id, out, lead = []) {
  const [{ body: v }, { body: pre }] = await Promise.all([
    getJSON(`/drafts/${id}/validate`),
    getJSON(`/drafts/${id}/preview`),
  ]);
  map.getSource("problems").setData({ type: "FeatureCollection", features: v.new_problems ?? [] });
  const moves = pre.impact.moves;
  const list = [
    ...lead,
    el("p", { class: v.new_errors.length ? "error" : "ok" },
      v.new_errors.length ? t("planner.new_errors", { n: v.new_errors.length }) : t("planner.no_new_errors")),
  ];
  if (v.new_warnings.length) list.push(el("p", { class: "warning" }, t("planner.new_warnings", { n: v.new_warnings.length })));
  list.push(el("p", {}, t("planner.totals", { errors: v.errors, warnings: v.warnings })));
  if (v.new_problems?.length) list.push(el("ul", { id: "planner-problems" }, v.new_problems.map(problemItem)));
  if (v.outdated.length) list.push(el("p", { class: "error" }, t("planner.outdated", { grids: v.outdated.map((o) => o.grid).join("、") })));
  list.push(el("h4", {}, t("planner.impact")));
  if (!moves.length) list.push(el("p", {}, t("planner.no_moves")));
  list.push(el("ul", {}, moves.map((m) => el("li", {}, t("planner.move", {
    from: m.from ?? t("planner.outside"), to: m.to ?? t("planner.outside"), buildings: m.buildings.length,
    units: m.units, households: m.households, merchants: m.merchants, cameras: m.cameras, incidents: m.open_incidents,
  })))));
  const codes = moves.flatMap((m) => m.buildings);
  if (codes.length) {
    list.push(el("h4", {}, t("planner.moving_buildings")));
    const to = new Map(moves.flatMap((m) => m.buildings.map((b) => [b, m.to ?? t("planner.outside")])));
    list.push(el("ul", { id: "planner-buildings" }, movingBuildings(codes).map((b) =>
      el("li", { "data-building": b.code }, `${b.address || b.code} → ${to.get(b.code)}${b.households !== undefined ? ` · ${label("count", "households")} ${b.households}` : ""}`))));
  }
  map.setFilter("moved-buildings", ["in", ["get", "code"], ["literal", codes]]);
  if (pre.impact.new_straddling.length) list.push(el("p", { class: "error" }, t("planner.straddling", { list: pre.impact.new_straddling.join("、") })));
  out.replaceChildren(...list);
  out.dataset.newErrors = String(v.new_errors.length);
  return v;
}

async function validateEdit() {
  const p = state.planner;
  const out = $("planner-result");
  if (!p.dirty.size) { out.replaceChildren(el("p", {}, t("planner.nothing"))); return; }
  const changes = [...p.dirty].map((code) => ({ code, geometry: changedGeometry(code), base_version: p.grids.get(code).version }));
  try {
    const { body: d } = await getJSON("/drafts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        reason: $("planner-reason").value,
        ...($("planner-effective").value ? { effective_date: $("planner-effective").value } : {}),
        changes,
      }),
    });
    p.draftId = d.id;
    const v = await showDraftChecks(d.id, out);
    $("planner-publish").disabled = v.new_errors.length > 0 || v.outdated.length > 0;
  } catch (err) {
    out.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

async function publishEdit() {
  const p = state.planner;
  if (!p?.draftId) return;
  try {
    const { body } = await getJSON(`/drafts/${p.draftId}/publish`, { method: "POST" });
    const v = body.published.version;
    toast(t("planner.published", { v }));
    closeEdit();
    // The data version the published snapshot carries.
    const { body: h } = await getJSON("/health");
    await refreshData(v, h.data_version);
    $("planner-result").textContent = t("planner.published", { v });
    await loadHistory();
  } catch (err) {
    $("planner-result").replaceChildren(el("p", { class: "error" }, err.message));
  }
}

// ---- version history: who changed what when, before/after, rollback

async function loadHistory() {
  const { body } = await getJSON("/versions");
  const list = $("history-list");
  const versions = [...body.versions].sort((a, b) => b.version - a.version);
  if (!versions.length) { list.replaceChildren(el("li", {}, t("planner.history.empty"))); return; }
  const current = versions[0].version;
  list.replaceChildren(...versions.map((v) => el("li", { "data-version": String(v.version) },
    el("strong", {}, t("planner.version", { v: v.version })), " ",
    el("span", {}, t("planner.version.line", { time: time(v.published_at), author: v.author, reason: v.reason })), " ",
    el("span", { class: "hint" }, t("planner.version.effective", { date: v.effective_date })),
    v.grids?.length ? el("span", { class: "hint" }, ` · ${v.grids.join("、")}`) : null,
    el("div", { class: "buttons" },
      v.grids?.length ? el("button", { type: "button", class: "show-diff", onclick: () => showDiff(v).catch((e) => toast(e.message)) }, t("planner.show_after")) : null,
      v.version !== current ? el("button", { type: "button", class: "rollback", onclick: () => rollbackTo(v.version).catch((e) => toast(e.message)) }, t("planner.rollback")) : null),
  )));
}

// The grids a version changed, as they were before it (dashed red) and
// after it (blue).
async function showDiff(v) {
  const features = [];
  for (const code of v.grids) {
    const { body } = await getJSON(`/grids/${encodeURIComponent(code)}/history`);
    const at = body.features.filter((f) => f.properties.version <= v.version).sort((a, b) => a.properties.version - b.properties.version);
    const after = at.at(-1);
    const before = at.filter((f) => f.properties.version < v.version).at(-1);
    if (before?.geometry) features.push({ ...before, properties: { ...before.properties, side: "before" } });
    if (after?.properties.version === v.version && after.geometry) features.push({ ...after, properties: { ...after.properties, side: "after" } });
  }
  map.getSource("diff").setData({ type: "FeatureCollection", features });
  if (features.length) {
    const boxes = features.map((f) => bboxOf(f.geometry));
    map.fitBounds([[Math.min(...boxes.map((b) => b[0])), Math.min(...boxes.map((b) => b[1]))],
      [Math.max(...boxes.map((b) => b[2])), Math.max(...boxes.map((b) => b[3]))]], { padding: 80, maxZoom: 18 });
  }
}

async function rollbackTo(n) {
  if (!window.confirm(t("planner.rollback.confirm", { v: n }))) return;
  const { body } = await getJSON(`/versions/${n}/rollback`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ reason: `${t("planner.rollback")} ${n}` }),
  });
  const v = body.published.version;
  toast(t("planner.rolled_back", { v }));
  map.getSource("diff").setData({ type: "FeatureCollection", features: [] });
  const { body: h } = await getJSON("/health");
  await refreshData(v, h.data_version);
  await loadHistory();
}

$("planner-mode").addEventListener("change", () => {
  if ($("planner-mode").checked) {
    state.planner = newPlanner();
    $("planner-help").hidden = false;
    $("propose").hidden = false;
    loadCommunities().catch((e) => toast(e.message));
    map.getCanvas().style.cursor = "crosshair";
  } else {
    closeEdit();
    $("propose").hidden = true;
    if (draw) { draw.stop(); draw = null; }
    map.getCanvas().style.cursor = "";
  }
});

// ---- proposed grids: a community cut afresh (or today's grids brought
// into the band), stored as a draft, checked and published like an edit.

async function loadCommunities() {
  const { body } = await getJSON("/collections/communities/items?limit=1000");
  const sel = $("propose-community");
  sel.replaceChildren(...body.features.map((f) => el("option", { value: f.id }, `${f.properties.name} (${f.id})`)));
}

function metricsRow(label, m) {
  return el("tr", {},
    el("th", {}, label),
    el("td", {}, num(m.grids, 0)),
    el("td", {}, `${m.households_min} / ${num(m.households_median, 0)} / ${m.households_max}`),
    el("td", {}, `${num(m.share_in_band * 100, 0)}%`),
    el("td", {}, `${num(m.compactness_mean, 2)} / ${num(m.compactness_worst, 2)}`),
    el("td", {}, `${num(m.road_share * 100, 0)}%`),
    el("td", {}, num(m.households_moved, 0)));
}

async function proposeGrids() {
  const out = $("propose-result");
  $("propose-publish").disabled = true;
  out.replaceChildren(el("p", {}, t("partition.working")));
  try {
    const { body: r } = await getJSON("/drafts/propose", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        community: $("propose-community").value,
        min: Number($("propose-min").value),
        max: Number($("propose-max").value),
        keep_existing: $("propose-keep").checked,
      }),
    });
    const after = r.grids.features.filter((f) => f.geometry).map((f) => ({ ...f, properties: { ...f.properties, side: "after" } }));
    map.getSource("diff").setData({ type: "FeatureCollection", features: after });
    if (after.length) {
      const [w, s, e, n] = bboxOf({ coordinates: after.map((f) => f.geometry.coordinates) });
      map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 17 });
    }
    const lead = [
      el("table", { id: "propose-metrics" },
        el("tr", {}, ...["", "partition.grids", "partition.households", "partition.in_band", "partition.compactness", "partition.on_roads", "partition.moved"].map((k) => el("th", {}, k ? t(k) : ""))),
        metricsRow(t("partition.today"), r.today),
        metricsRow(t("partition.proposed"), r.metrics)),
      el("ul", { id: "propose-grids" }, r.grids.features.map((f) => el("li", { "data-grid": f.id, "data-fate": f.properties.fate, class: f.properties.in_band || f.properties.fate === "removed" ? "" : "warning" },
        t(`partition.fate.${f.properties.fate}`, { code: f.id, name: f.properties.name, households: f.properties.households })))),
      ...(r.notes.length ? [el("ul", { id: "propose-notes" }, r.notes.map((n) => el("li", { "data-kind": n.kind }, n.message)))] : []),
    ];
    if (!r.id) { out.replaceChildren(...lead); return; }
    state.planner.draftId = r.id;
    const v = await showDraftChecks(r.id, out, lead);
    $("propose-publish").disabled = v.new_errors.length > 0 || v.outdated.length > 0;
  } catch (err) {
    out.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

async function publishProposal() {
  const p = state.planner;
  if (!p?.draftId) return;
  const out = $("propose-result");
  try {
    const { body } = await getJSON(`/drafts/${p.draftId}/publish`, { method: "POST" });
    const v = body.published.version;
    p.draftId = null;
    $("propose-publish").disabled = true;
    map.getSource("diff").setData({ type: "FeatureCollection", features: [] });
    const { body: h } = await getJSON("/health");
    await refreshData(v, h.data_version);
    out.replaceChildren(el("p", { class: "ok" }, t("planner.published", { v })));
    await loadHistory();
  } catch (err) {
    out.replaceChildren(el("p", { class: "error" }, err.message));
  }
}

$("propose-run").addEventListener("click", proposeGrids);
$("propose-publish").addEventListener("click", publishProposal);
$("planner-validate").addEventListener("click", validateEdit);
$("planner-publish").addEventListener("click", publishEdit);
$("planner-cancel").addEventListener("click", closeEdit);

// ---------------------------------------------------------------- dashboard
//
// The command center's one screen (/dashboard): KPI tiles from
// /stats/overview, the live case list fed by the server (GET /events,
// Server-Sent Events: no polling), and charts by category, grid and day
// over the heatmap's filters. Clicking a grid (on the map or its bar)
// filters the category and day charts to it; the time slider moves the
// heatmap, the incident points and the charts together.

const KPIS = ["new_today", "open", "overdue", "closed_today", "satisfaction"];
let kpiTimer = null;

async function refreshKpis() {
  const { body: o } = await getJSON("/stats/overview");
  state.overview = o;
  $("kpis").replaceChildren(...KPIS.map((k) => {
    const value = k === "satisfaction"
      ? (o.satisfaction === null ? t("kpi.none") : num(o.satisfaction, 2))
      : num(o[k], 0);
    const sub = k !== "satisfaction" ? o.day
      : o.satisfaction !== null ? t("kpi.satisfaction.value", { v: num(o.satisfaction, 2), n: o.evaluations }) : t("kpi.satisfaction.none");
    return el("div", { class: `kpi kpi-${k}`, "data-kpi": k, "data-value": k === "satisfaction" ? String(o.satisfaction ?? "") : String(o[k]) },
      el("div", { class: "kpi-label" }, t(`kpi.${k}`)),
      el("div", { class: "kpi-value" }, value),
      el("div", { class: "kpi-sub" }, sub));
  }));
}

// The month's assessment (GET /stats/assessment): the best ranked grids
// with their cases, overdue rate, satisfaction and score.
const ASSESSED_SHOWN = 5;

async function refreshAssessment() {
  const { body: a } = await getJSON("/stats/assessment");
  const pct = (v) => (v === null ? "–" : `${num(v * 100, 1)}%`);
  const opt = (v, d) => (v === null ? "–" : num(v, d));
  const ranked = a.grids.filter((g) => g.rank !== null).slice(0, ASSESSED_SHOWN);
  const head = el("tr", {}, ...["report.col.rank", "report.col.grid", "report.col.cases", "report.col.overdue_rate", "report.col.satisfaction", "report.col.score"]
    .map((k) => el("th", {}, t(k))));
  const rows = ranked.map((g) => el("tr", { "data-grid": g.code },
    el("td", {}, String(g.rank)), el("td", {}, g.name), el("td", {}, num(g.cases, 0)),
    el("td", {}, pct(g.overdue_rate)), el("td", {}, opt(g.satisfaction, 2)), el("td", {}, opt(g.score, 1))));
  $("assessment").replaceChildren(...(ranked.length ? [head, ...rows] : [el("tr", {}, el("td", { class: "empty" }, t("dash.assessment.empty")))]));
}

// At most one refresh of the figures per two seconds, however many
// events come.
function kpisSoon() {
  if (kpiTimer) return;
  kpiTimer = setTimeout(() => {
    kpiTimer = null;
    refreshKpis().catch((e) => toast(e.message));
    refreshAssessment().catch((e) => toast(e.message));
  }, 2000);
}

const LIVE_MAX = 50;

function liveItem(c) {
  const alarm = c.source === "sensor";
  const li = el("li", { "data-case": String(c.id), class: `${c.kind}${c.overdue ? " overdue" : ""}${alarm ? " alarm" : ""}` },
    el("span", { class: "live-time" }, time(c.changed_at)),
    el("span", { class: "live-what" }, alarm ? el("b", { class: "alarm-tag" }, `${t("dash.alarm")} `) : "", `#${c.id} ${label("category", c.category)}`),
    el("span", { class: "live-status" }, c.kind === "new" ? t("event.new") : label("status", c.status)),
    el("span", { class: "live-grid" }, c.grid?.name ?? ""));
  li.addEventListener("click", () => {
    map.flyTo({ center: c.location, zoom: Math.max(map.getZoom(), 16) });
    openCase(c.id).catch((e) => toast(e.message));
  });
  return li;
}

function addLive(c) {
  const list = $("live-list");
  list.querySelector(`[data-case="${c.id}"]`)?.remove();
  list.querySelector(".empty")?.remove();
  list.prepend(liveItem(c));
  while (list.children.length > LIVE_MAX) list.lastElementChild.remove();
}

async function loadLive() {
  const { body } = await getJSON("/incidents?newest=true&limit=20");
  const rows = body.cases;
  const list = $("live-list");
  list.replaceChildren();
  if (!rows.length) list.append(el("li", { class: "empty" }, t("dash.live.empty")));
  for (const r of rows.reverse()) {
    addLive({ id: r.id, kind: "update", category: r.category, source: r.source, status: r.status, changed_at: r.reported_at,
      location: r.location, grid: r.grid ? { code: r.grid, name: state.summary.get(r.grid)?.name ?? r.grid } : null, overdue: !!r.overdue });
  }
}

function openFeed() {
  const feed = new EventSource("/events");
  feed.addEventListener("hello", () => {
    $("live-state").textContent = t("dash.live.connected");
    $("live").dataset.connected = "true";
  });
  feed.addEventListener("case", (ev) => {
    const c = JSON.parse(ev.data);
    addLive(c);
    kpisSoon();
    // A monitoring point's alarm opened or cleared: the point changes colour.
    if (c.source === "sensor") loadSensors().catch((e) => toast(e.message));
  });
  feed.addEventListener("refresh", () => {
    loadLive().catch((e) => toast(e.message));
    kpisSoon();
  });
  feed.addEventListener("error", () => {
    $("live-state").textContent = t("dash.live.offline");
    $("live").dataset.connected = "false";
  });
  state.feed = feed;
}

// ---- charts: plain SVG with axes, units and the values on the bars

const SVG = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs = {}, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

// A horizontal bar chart: one bar per row, its value at its end.
function barChart(svg, rows, onPick) {
  const w = 360, rowH = 22, left = 110, top = 6, bottom = 26;
  const h = top + rows.length * rowH + bottom;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.replaceChildren();
  const max = Math.max(1, ...rows.map((r) => r.value));
  const x = (v) => left + ((w - left - 40) * v) / max;
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const g = svgEl("g", { class: "bar", "data-key": r.key, tabindex: 0 });
    g.append(svgEl("text", { x: left - 6, y: y + 15, "text-anchor": "end", class: "tick" }, r.label));
    g.append(svgEl("rect", { x: left, y: y + 3, width: Math.max(1, x(r.value) - left), height: rowH - 6, class: r.on ? "on" : "" }));
    g.append(svgEl("text", { x: x(r.value) + 4, y: y + 15, class: "value" }, num(r.value, 0)));
    if (onPick) g.addEventListener("click", () => onPick(r));
    svg.append(g);
  });
  const axisY = top + rows.length * rowH + 2;
  svg.append(svgEl("line", { x1: left, y1: axisY, x2: w - 40, y2: axisY, class: "axis" }));
  svg.append(svgEl("text", { x: left, y: axisY + 16, class: "tick" }, "0"));
  svg.append(svgEl("text", { x: w - 40, y: axisY + 16, "text-anchor": "end", class: "tick" }, `${num(max, 0)} ${t("dash.axis.cases")}`));
}

// A column chart of cases per day, with a date axis.
function dayChart(svg, days) {
  const w = 360, h = 150, left = 34, bottom = 30, top = 8;
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.replaceChildren();
  const max = Math.max(1, ...days.map((d) => d.incidents));
  const bw = (w - left - 6) / Math.max(1, days.length);
  const y = (v) => h - bottom - ((h - bottom - top) * v) / max;
  days.forEach((d, i) => {
    const r = svgEl("rect", { x: left + i * bw + 0.5, y: y(d.incidents), width: Math.max(1, bw - 1), height: h - bottom - y(d.incidents), "data-day": d.day });
    r.append(svgEl("title", {}, `${d.day}: ${d.incidents} ${t("dash.axis.cases")}`));
    svg.append(r);
  });
  svg.append(svgEl("line", { x1: left, y1: h - bottom, x2: w - 6, y2: h - bottom, class: "axis" }));
  svg.append(svgEl("line", { x1: left, y1: top, x2: left, y2: h - bottom, class: "axis" }));
  svg.append(svgEl("text", { x: left - 4, y: top + 8, "text-anchor": "end", class: "tick" }, num(max, 0)));
  svg.append(svgEl("text", { x: left - 4, y: h - bottom, "text-anchor": "end", class: "tick" }, "0"));
  svg.append(svgEl("text", { x: 2, y: top + 20, class: "tick unit" }, t("dash.axis.cases")));
  if (days.length) {
    svg.append(svgEl("text", { x: left, y: h - bottom + 14, class: "tick" }, days[0].day.slice(5)));
    svg.append(svgEl("text", { x: w - 6, y: h - bottom + 14, "text-anchor": "end", class: "tick" }, days.at(-1).day.slice(5)));
  }
  svg.append(svgEl("text", { x: (left + w) / 2, y: h - 4, "text-anchor": "middle", class: "tick unit" }, t("dash.axis.day")));
}

// The period the charts cover: the slider's window, else the last 30 days
// of data.
function chartPeriod() {
  const to = $("heat-to").value || state.interval?.[1];
  let from = $("heat-from").value;
  if (!from && to) from = isoOf(dayOf(to) - 29);
  return from && to ? `${from}..${to}` : null;
}

async function refreshCharts() {
  const period = chartPeriod();
  const q = new URLSearchParams({ level: "grid" });
  if (period) q.set("period", period);
  if ($("heat-category").value) q.set("category", $("heat-category").value);
  if (state.gridFilter) q.set("grid", state.gridFilter.code);
  const { body } = await getJSON(`/stats/incidents?${q}`);
  const grids = body.areas.filter((a) => a.level === "grid");
  const byCat = new Map();
  for (const a of grids) {
    if (state.gridFilter && a.code !== state.gridFilter.code) continue;
    for (const [c, n] of Object.entries(a.by_category)) byCat.set(c, (byCat.get(c) ?? 0) + n);
  }
  const cats = [...byCat].sort((a, b) => b[1] - a[1]).map(([c, n]) => ({ key: c, label: label("category", c), value: n, on: $("heat-category").value === c }));
  barChart($("chart-category"), cats, (r) => {
    $("heat-category").value = $("heat-category").value === r.key ? "" : r.key;
    refreshHeat();
  });
  const top = grids.slice().sort((a, b) => b.incidents - a.incidents).slice(0, 10)
    .map((a) => ({ key: a.code, label: a.name, value: a.incidents, on: state.gridFilter?.code === a.code }));
  barChart($("chart-grid"), top, (r) => setGridFilter(r.key, r.label));
  dayChart($("chart-day"), body.by_day ?? []);
  $("charts").dataset.period = period ?? "";
  $("charts").dataset.grid = state.gridFilter?.code ?? "";
}

async function setGridFilter(code, name) {
  state.gridFilter = code && state.gridFilter?.code !== code ? { code, name } : null;
  highlightGrid(state.gridFilter?.code);
  $("dash-filter").hidden = !state.gridFilter;
  $("dash-filter-text").textContent = state.gridFilter ? t("dash.filter", { what: `${name}${paren(code)}` }) : "";
  await refreshCharts();
}
$("dash-filter-clear").addEventListener("click", () => setGridFilter(null));

async function startDashboard() {
  $("dash").hidden = false;
  $("live").hidden = false;
  await Promise.all([refreshKpis(), refreshCharts(), loadLive(), refreshAssessment()]);
  openFeed();
}

// For automation and embedding: the map and a promise that settles once
// the first view is drawn.
window.gridgov = {
  map,
  state,
  search,
  openEdit,
  openCase,
  loadHistory,
  ready: start().catch((e) => {
    console.error(e);
    toast(t("error.start", { detail: e.message }));
    throw e;
  }),
};
