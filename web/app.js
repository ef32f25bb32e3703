// The gridgov web map: the district's own plan map as the basemap, vector
// tiles on top for picking, the incident heatmap with its filters, search,
// info cards, and the planner's boundary editor. Everything comes from the
// gridgov service that serves this page; nothing from the internet.
import * as maplibregl from "maplibre-gl";
import { TerraDraw, TerraDrawPolygonMode, TerraDrawSelectMode } from "terra-draw";
import { TerraDrawMapLibreGLAdapter } from "terra-draw-maplibre-gl-adapter";

const $ = (id) => document.getElementById(id);
const origin = window.location.origin;

// ---------------------------------------------------------------- helpers

async function getJSON(url, init) {
  const r = await fetch(url, init);
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { detail: text }; }
  if (!r.ok) {
    const e = new Error(body?.detail || body?.title || `${r.status} ${r.statusText}`);
    e.status = r.status;
    e.body = body;
    throw e;
  }
  return { body, headers: r.headers };
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

const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

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
  { id: "plan", label: "Plan map (basemap)", layers: ["plan"], on: true },
  { id: "grids", label: "Grids", layers: ["grids-fill", "grids-line"], on: true },
  { id: "roads", label: "Roads and water (over the heatmap)", layers: ["water-fill", "water-line", "roads-line"], on: false },
  { id: "buildings", label: "Buildings", layers: ["buildings-fill", "buildings"], on: true },
  { id: "units", label: "Units (stairwells)", layers: ["units"], on: false },
  { id: "merchants", label: "Merchants", layers: ["merchants"], on: true },
  { id: "cameras", label: "Cameras", layers: ["cameras"], on: true },
  { id: "incidents", label: "Incidents", layers: ["incidents", "incident-counts"], on: false },
  { id: "heatmap", label: "Incident heatmap", layers: ["heat"], on: true },
];
// A tap inside a building opens the building (its invisible fill takes
// the tap), not the grid around it.
const CLICKABLE = ["incidents", "incident-counts", "cameras", "merchants", "units", "roads-line", "buildings-fill", "grids-fill"];

function heatQuery() {
  const p = new URLSearchParams();
  if ($("heat-from").value) p.set("from", $("heat-from").value);
  if ($("heat-to").value) p.set("to", $("heat-to").value);
  if ($("heat-category").value) p.set("category", $("heat-category").value);
  if ($("heat-per").checked) p.set("per", "households");
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
      {
        id: "incident-counts", type: "circle", source: "gg", "source-layer": "incidents", maxzoom: 15,
        filter: ["has", "count"], layout: { visibility: vis("incidents") },
        paint: { "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 3, 200, 14], "circle-color": "#e67e22", "circle-opacity": 0.7 },
      },
      {
        id: "incidents", type: "circle", source: "gg", "source-layer": "incidents", minzoom: 15,
        filter: ["!", ["has", "count"]], layout: { visibility: vis("incidents") },
        paint: { "circle-radius": 4, "circle-color": ["case", ["==", ["get", "open"], 1], "#e74c3c", "#95a5a6"], "circle-stroke-color": "#fff", "circle-stroke-width": 0.8 },
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
        const { body } = await getJSON("/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: $("login-name").value, password: $("login-password").value }),
        });
        $("login-password").value = "";
        form.hidden = true;
        resolve({ user: body.user.name, role: body.user.role, grids: body.user.grids });
      } catch (err) {
        $("login-error").textContent = err.message;
      }
    });
  });
}

$("logout").addEventListener("click", async () => {
  await fetch("/logout", { method: "POST" });
  window.location.reload();
});

async function start() {
  const me = await signIn();
  state.me = me;
  $("who").textContent = `${me.user} (${me.role.replaceAll("_", " ")})`;
  $("logout").hidden = false;
  // Department handlers and residents work on their cases, not the map.
  if (me.role === "department_handler" || me.role === "public") {
    const t = $("toast");
    t.textContent = `Signed in as ${me.user}: the map is for grid staff, planners and the command center; your cases are at /incidents.`;
    t.hidden = false;
    return;
  }
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

  for (const c of state.categories) $("heat-category").append(el("option", { value: c }, c.replaceAll("_", " ")));
  const interval = coll?.extent?.temporal?.interval?.[0];
  if (interval) {
    for (const id of ["heat-from", "heat-to"]) {
      $(id).min = interval[0].slice(0, 10);
      $(id).max = interval[1].slice(0, 10);
    }
  }
  buildLayerToggles();
  map.setStyle(style(tj));
  map.jumpTo({ center: [tj.center[0], tj.center[1]], zoom: tj.center[2] });
  map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding: 20, animate: false });
  if (tj.attribution) map.addControl(new maplibregl.AttributionControl({ customAttribution: tj.attribution, compact: true }));
  renderLegend(legend);
  await new Promise((resolve) => map.once("idle", resolve));
  setInterval(pollVersion, 5000);
}

function buildLayerToggles() {
  const box = $("layers");
  for (const g of LAYER_GROUPS) {
    const cb = el("input", { type: "checkbox", id: `layer-${g.id}`, "data-layer": g.id });
    cb.checked = g.on;
    cb.addEventListener("change", () => {
      g.on = cb.checked;
      for (const l of g.layers) map.setLayoutProperty(l, "visibility", g.on ? "visible" : "none");
    });
    box.append(el("label", {}, cb, " ", g.label));
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
  await loadSummary();
}

// ---------------------------------------------------------------- heatmap

async function refreshHeat() {
  const q = heatQuery();
  try {
    const { body } = await getJSON(`/tiles/heatmap/legend.json?${q}`);
    renderLegend(body);
    map.getSource("heat").setTiles([tileUrls().heat]);
  } catch (e) {
    toast(e.message);
  }
}

function renderLegend(body) {
  const l = body.legend;
  const stops = l.stops.map((s) => `${s.color} ${(100 * s.value) / (l.max || 1)}%`).join(", ");
  $("legend").replaceChildren(
    el("div", { class: "bar", style: `background: linear-gradient(to right, ${stops})` }),
    el("div", { class: "ticks" }, el("span", {}, "0"), el("span", {}, fmt.format(l.max / 2)), el("span", {}, fmt.format(l.max))),
    el("div", { class: "unit" }, `${l.unit}, bandwidth ${body.bandwidth_m} m`),
  );
}

for (const id of ["heat-from", "heat-to", "heat-category", "heat-per"]) $(id).addEventListener("change", refreshHeat);

// ---------------------------------------------------------------- info card

function showCard(title, rows, chain) {
  const body = $("card-body");
  const table = el("table", {}, rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, v))));
  const parts = [el("h3", {}, title), table];
  if (chain && chain.length) {
    const grid = chain[0];
    parts.push(el("h4", {}, "Grid chain"));
    parts.push(el("ol", { class: "chain" }, chain.map((a) => el("li", {}, `${a.name} (${a.code}) · ${a.level}${a.kind ? ` · ${a.kind}` : ""}`))));
    const staff = grid.staff || [];
    if (staff.length) {
      parts.push(el("h4", {}, "Staff"));
      parts.push(el("table", {}, staff.map((s) => el("tr", {}, el("td", {}, s.role.replaceAll("_", " ")), el("td", {}, `${s.name} ${s.phone || ""}`)))));
    }
    const counts = state.summary.get(grid.code)?.counts;
    if (counts) {
      parts.push(el("h4", {}, "Counts"));
      parts.push(el("table", {}, Object.entries(counts).map(([k, v]) => el("tr", {}, el("td", {}, k.replaceAll("_", " ")), el("td", {}, fmt.format(v))))));
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
  grids: (p) => `${p.name} · grid`,
  buildings: (p) => p.address || `Building ${p.code}`,
  units: (p) => `Unit ${p.label}`,
  roads: (p) => `${p.name || "Unnamed road"} · ${String(p.class).replaceAll("_", " ")}`,
  merchants: (p) => `${p.name} · merchant`,
  cameras: () => "Camera",
  incidents: (p) => (p.count ? `${p.count} incidents` : `Incident · ${String(p.category).replaceAll("_", " ")}`),
};

map.on("click", async (e) => {
  if (state.planner) return plannerClick(e);
  const hits = map.queryRenderedFeatures(e.point, { layers: CLICKABLE.filter((l) => map.getLayer(l)) });
  if (!hits.length) return;
  const f = hits[0];
  const layer = f.sourceLayer;
  const rows = Object.entries(f.properties).map(([k, v]) => [k.replaceAll("_", " "), typeof v === "number" ? fmt.format(v) : v]);
  try {
    const r = await lookupPoint(e.lngLat.lng, e.lngLat.lat);
    const chain = r.chain.length ? r.chain : r.nearest ? [r.nearest] : [];
    showCard((TITLES[layer] || (() => layer))(f.properties), rows, chain);
    highlightGrid(chain[0]?.code);
  } catch (err) {
    toast(err.message);
  }
});
for (const l of CLICKABLE) {
  map.on("mouseenter", l, () => { if (!state.planner) map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", l, () => { if (!state.planner) map.getCanvas().style.cursor = ""; });
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
    const rows = [["coordinates", `${wlon.toFixed(6)}, ${wlat.toFixed(6)} (WGS 84)`]];
    if (!r.chain.length) rows.push(["outside the grids", `nearest grid ${fmt.format(r.border_distance_m)} m away`]);
    showCard(chain[0] ? chain[0].name : "Outside the district", rows, chain);
    highlightGrid(chain[0]?.code);
    return chain[0]?.code ?? null;
  }
  const { body } = await getJSON(`/lookup?address=${encodeURIComponent(q)}&limit=5`);
  const best = body.candidates[0];
  if (!best) {
    toast(`No address matches “${q}”`);
    showCard(`No match for “${q}”`, Object.entries(body.parsed).map(([k, v]) => [k, String(v)]), null);
    return null;
  }
  const { body: b } = await getJSON(`/collections/buildings/items/${encodeURIComponent(best.building)}`);
  const [w, s, e, n] = bboxOf(b.geometry);
  map.fitBounds([[w, s], [e, n]], { maxZoom: 18, padding: 80 });
  pinAt([(w + e) / 2, (s + n) / 2]);
  const rows = [
    ["address", best.address],
    ["building", best.building],
    ["unit", best.unit],
    ["confidence", fmt.format(best.confidence * 100) + "%"],
    ["matched", best.matched.join(", ")],
  ];
  if (body.candidates.length > 1) rows.push(["other matches", body.candidates.slice(1).map((c) => c.address).join("; ")]);
  showCard(best.address, rows, best.chain);
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
    shape.ring = next.map((c) => c.slice());
    if (!moved) continue;
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
  $("planner-grid").textContent = `Changed: ${[...p.dirty].join(", ")}`;
}

async function plannerClick(e) {
  if (state.planner.loaded) return; // terra-draw handles clicks on the open edit
  const hits = map.queryRenderedFeatures(e.point, { layers: ["grids-fill"] });
  if (!hits.length) { toast("Click inside a grid to edit its boundary"); return; }
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
      p.shapes.set(id, { code: g.code, part, ring: poly[0].map((c) => c.slice()) });
      features.push({ id, type: "Feature", geometry: { type: "Polygon", coordinates: [poly[0]] }, properties: { mode: "polygon", code: g.code } });
    });
  };
  add({ code, geometry: grid.geometry }, Number(headers.get("etag")?.replaceAll('"', "")));
  const others = near.features.filter((f) => f.id !== code && f.properties.level === "grid");
  const versions = await Promise.all(others.map((f) => getJSON(`/grids/${encodeURIComponent(f.id)}`).then((r) => Number(r.headers.get("etag")?.replaceAll('"', "")))));
  others.forEach((f, i) => add({ code: f.id, geometry: f.geometry }, versions[i]));
  const results = draw.addFeatures(features);
  const bad = results.filter((r) => !r.valid);
  if (bad.length) toast(`${bad.length} part(s) could not be opened for editing: ${bad[0].reason}`);
  const first = [...p.shapes.entries()].find(([, s]) => s.code === code);
  if (first) draw.selectFeature(first[0]);
  $("planner-tools").hidden = false;
  $("planner-grid").textContent = `Editing ${code} with ${others.length} neighbours`;
  $("planner-result").replaceChildren();
  map.fitBounds([[w, s], [e, n]], { padding: 60, maxZoom: 18 });
}

function closeEdit() {
  if (draw) draw.clear();
  state.planner = $("planner-mode").checked ? newPlanner() : null;
  $("planner-tools").hidden = true;
  $("planner-publish").disabled = true;
  map.getSource("problems").setData({ type: "FeatureCollection", features: [] });
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

async function validateEdit() {
  const p = state.planner;
  const out = $("planner-result");
  if (!p.dirty.size) { out.replaceChildren(el("p", {}, "Nothing changed yet.")); return; }
  const changes = [...p.dirty].map((code) => ({ code, geometry: changedGeometry(code), base_version: p.grids.get(code).version }));
  try {
    const { body: d } = await getJSON("/drafts", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: $("planner-reason").value, changes }),
    });
    const [{ body: v }, { body: pre }] = await Promise.all([
      getJSON(`/drafts/${d.id}/validate`),
      getJSON(`/drafts/${d.id}/preview`),
    ]);
    map.getSource("problems").setData(v);
    p.draftId = d.id;
    const moves = pre.impact.moves;
    const list = [
      el("p", { class: v.new_errors.length ? "error" : "ok" },
        v.new_errors.length ? `${v.new_errors.length} new error(s): publishing is refused` : "No new topology errors"),
      el("p", {}, `${v.errors} error(s), ${v.warnings} warning(s) in the district after the change`),
    ];
    if (v.new_errors.length) list.push(el("ul", {}, v.new_errors.map((m) => el("li", { class: "error" }, m))));
    if (v.outdated.length) list.push(el("p", { class: "error" }, `Changed by someone else since opened: ${v.outdated.map((o) => o.grid).join(", ")}`));
    list.push(el("h4", {}, "Impact"));
    if (!moves.length) list.push(el("p", {}, "No building, unit, merchant, camera or open incident changes grid."));
    list.push(el("ul", {}, moves.map((m) => el("li", {}, `${m.from ?? "outside"} → ${m.to ?? "outside"}: ${m.buildings.length} buildings, ${m.units} units, ${m.households} households, ${m.merchants} merchants, ${m.cameras} cameras, ${m.open_incidents} open incidents`))));
    if (pre.impact.new_straddling.length) list.push(el("p", { class: "error" }, `Buildings cut by the new border: ${pre.impact.new_straddling.join(", ")}`));
    out.replaceChildren(...list);
    out.dataset.newErrors = String(v.new_errors.length);
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
    toast(`Published version ${v}`);
    closeEdit();
    // The data version the published snapshot carries.
    const { body: h } = await getJSON("/health");
    await refreshData(v, h.data_version);
    $("planner-result").textContent = `Published version ${v}`;
  } catch (err) {
    $("planner-result").replaceChildren(el("p", { class: "error" }, `${err.status ?? ""} ${err.message}`));
  }
}

$("planner-mode").addEventListener("change", () => {
  if ($("planner-mode").checked) {
    state.planner = newPlanner();
    $("planner-help").hidden = false;
    map.getCanvas().style.cursor = "crosshair";
  } else {
    closeEdit();
    if (draw) { draw.stop(); draw = null; }
    map.getCanvas().style.cursor = "";
  }
});
$("planner-validate").addEventListener("click", validateEdit);
$("planner-publish").addEventListener("click", publishEdit);
$("planner-cancel").addEventListener("click", closeEdit);

// For automation and embedding: the map and a promise that settles once
// the first view is drawn.
window.gridgov = {
  map,
  state,
  search,
  openEdit,
  ready: start().catch((e) => {
    console.error(e);
    toast(`The map could not start: ${e.message}`);
    throw e;
  }),
};
