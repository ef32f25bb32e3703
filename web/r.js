// The residents' page (/r): report a problem from a phone without an
// account, follow it and evaluate it when it is closed. The place comes
// from the QR code of a grid sign or card (/r?b=BUILDING&u=UNIT), the
// phone's position or a tap on the plan map; filing is Open311
// (POST /open311/v2/requests.json), whose answer gives a case number and
// a tracking token. Both are kept on this phone (localStorage) and the
// token is sent with every later call (X-Tracking-Token).
import * as maplibregl from "/web/vendor/maplibre-gl.mjs";
import { loadCatalogue, t, label, time, applyI18n } from "/web/i18n.js";

const $ = (id) => document.getElementById(id);
const CASES_KEY = "gridgov.resident.cases";
const DEVICE_KEY = "gridgov.resident.device";
const MAX_PHOTOS = 3;
const state = { place: null, district: null, map: null, marker: null };

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") n.className = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) n.append(c instanceof Node ? c : String(c));
  }
  return n;
}

function read(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function write(key, v) {
  try { localStorage.setItem(key, JSON.stringify(v)); } catch { /* private mode: this page only */ }
}
const randomHex = (n) => Array.from(crypto.getRandomValues(new Uint8Array(n)), (b) => b.toString(16).padStart(2, "0")).join("");

/** This phone's id for Open311's device_id: random, kept on the phone. */
function device() {
  let d = read(DEVICE_KEY, null);
  if (!d) { d = `web-${randomHex(8)}`; write(DEVICE_KEY, d); }
  return d;
}

/** A call to the service: status, ok and the JSON body (null when none). */
async function api(url, init = {}) {
  const r = await fetch(url, init);
  let body = null;
  try { body = await r.json(); } catch { body = null; }
  return { ok: r.ok, status: r.status, body };
}

/** What went wrong in words: Open311's errors, problem+json, or the status. */
function why(r) {
  if (Array.isArray(r.body)) return r.body.map((e) => e.description).join("; ");
  return r.body?.detail || `HTTP ${r.status}`;
}

function notice(text) {
  const n = $("notice");
  n.textContent = text || "";
  n.hidden = !text;
}

// ---------------------------------------------------------------- the place

function showPlace(p) {
  state.place = p;
  const where = p.address || t("r.place.point", { lon: p.lon.toFixed(5), lat: p.lat.toFixed(5) });
  $("place-text").textContent = where;
  const dl = $("place-chain");
  dl.replaceChildren();
  for (const [level, code, name] of p.chain) {
    dl.append(el("dt", {}, label("level", level)), el("dd", { "data-code": code }, name));
  }
  dl.hidden = p.chain.length === 0;
  if (p.chain.length === 0) $("place-text").textContent = `${where} · ${t("r.place.outside")}`;
  const team = $("team");
  team.replaceChildren(...p.team.map((m) => el("li", { class: "member" },
    el("span", { class: "role" }, label("staff", m.role)),
    el("span", { class: "who" }, m.name, m.party_member ? el("span", { class: "party" }, t("cards.party")) : null),
    el("a", { href: `tel:${m.phone.replace(/[^\d+]/g, "")}` }, m.phone))));
  $("team-card").hidden = p.team.length === 0;
  if (state.map) placeMarker([p.lon, p.lat]);
}

async function findPlace(query) {
  const r = await api(`/r/place?${new URLSearchParams(query)}`);
  if (!r.ok) { notice(`${t("r.place.failed")}: ${why(r)}`); return; }
  notice("");
  showPlace(r.body);
}

function locate() {
  if (!navigator.geolocation) { notice(t("r.locate.none")); return; }
  $("locate").disabled = true;
  navigator.geolocation.getCurrentPosition(
    async (pos) => {
      $("locate").disabled = false;
      await findPlace({ lon: pos.coords.longitude, lat: pos.coords.latitude });
    },
    (e) => { $("locate").disabled = false; notice(`${t("r.locate.failed")}: ${e.message}`); },
    { enableHighAccuracy: true, timeout: 15000 },
  );
}

function placeMarker(at) {
  if (!state.marker) state.marker = new maplibregl.Marker({ color: "#b91c1c" }).setLngLat(at).addTo(state.map);
  else state.marker.setLngLat(at);
}

function openMap() {
  const box = $("map");
  box.hidden = false;
  $("map-hint").hidden = false;
  if (state.map) return;
  const center = state.place ? [state.place.lon, state.place.lat] : state.district.center;
  state.map = new maplibregl.Map({
    container: box,
    center,
    zoom: state.place ? 17 : 14,
    attributionControl: false,
    style: {
      version: 8,
      sources: { plan: { type: "raster", tiles: [`${location.origin}/r/tiles/{z}/{x}/{y}.png`], tileSize: 256, maxzoom: 20 } },
      layers: [{ id: "plan", type: "raster", source: "plan" }],
    },
  });
  state.map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  if (state.place) placeMarker([state.place.lon, state.place.lat]);
  state.map.on("click", async (e) => {
    placeMarker([e.lngLat.lng, e.lngLat.lat]);
    await findPlace({ lon: e.lngLat.lng, lat: e.lngLat.lat });
  });
}

// ---------------------------------------------------------------- filing

async function submit(ev) {
  ev.preventDefault();
  const err = $("form-error");
  const problems = [];
  if (!state.place) problems.push(t("r.error.place"));
  if (!$("category").value) problems.push(t("r.error.category"));
  if (!$("description").value.trim()) problems.push(t("r.error.description"));
  const files = Array.from($("photos").files || []);
  if (files.length > MAX_PHOTOS) problems.push(t("r.error.photos", { n: MAX_PHOTOS }));
  err.textContent = problems.join(" ");
  if (problems.length) return;
  $("submit").disabled = true;
  const p = state.place;
  const body = {
    service_code: $("category").value,
    lat: p.lat,
    long: p.lon,
    description: $("description").value.trim(),
    device_id: device(),
    ...(p.address ? { address_string: p.address } : {}),
    ...(p.building ? { address_id: p.unit ? `${p.building}/${p.unit}` : p.building } : {}),
    ...($("name").value.trim() ? { first_name: $("name").value.trim() } : {}),
    ...($("phone").value.trim() ? { phone: $("phone").value.trim() } : {}),
  };
  const r = await api("/open311/v2/requests.json", {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `r-${randomHex(12)}` },
    body: JSON.stringify(body),
  });
  $("submit").disabled = false;
  if (!r.ok) { err.textContent = `${t("r.error.refused")}: ${why(r)}`; return; }
  const filed = r.body[0];
  const mine = { id: Number(filed.service_request_id), token: filed.tracking_token };
  write(CASES_KEY, [mine, ...read(CASES_KEY, []).filter((c) => c.id !== mine.id)]);
  let failed = 0;
  for (const f of files) {
    const up = await api(`/r/cases/${mine.id}/photos`, {
      method: "POST", headers: { "content-type": f.type || "image/jpeg", "x-tracking-token": mine.token }, body: f,
    });
    if (!up.ok) failed++;
  }
  $("case-number").textContent = String(mine.id);
  $("done-grid").textContent = filed.service_notice ? t("r.done.grid", { grid: p.chain[0]?.[2] ?? "" }) : "";
  notice(failed ? t("r.photos.failed", { n: failed }) : "");
  $("report").hidden = true;
  $("done").hidden = false;
  $("report").reset();
  await showMine();
}

// ---------------------------------------------------------------- my cases

function stars(c, token) {
  let chosen = 0;
  const buttons = [1, 2, 3, 4, 5].map((n) => el("button", {
    type: "button", "aria-pressed": "false", "aria-label": t("r.stars", { n }),
    onclick: () => {
      chosen = n;
      buttons.forEach((b, k) => b.setAttribute("aria-pressed", String(k < n)));
    },
  }, "★"));
  const note = el("textarea", { maxlength: "2000", "aria-label": t("r.evaluate.note") });
  const error = el("p", { class: "error", role: "alert" });
  const send = el("button", {
    type: "button", class: "primary",
    onclick: async () => {
      if (!chosen) { error.textContent = t("r.evaluate.choose"); return; }
      send.disabled = true;
      const r = await api(`/r/cases/${c.id}/evaluation`, {
        method: "POST", headers: { "content-type": "application/json", "x-tracking-token": token },
        body: JSON.stringify({ satisfaction: chosen, note: note.value }),
      });
      send.disabled = false;
      if (!r.ok) { error.textContent = why(r); return; }
      await showMine();
    },
  }, t("r.evaluate.submit"));
  return el("div", { class: "evaluate" },
    el("p", {}, t("r.evaluate")),
    el("div", { class: "stars", role: "group", "aria-label": t("r.evaluate") }, buttons),
    note, send, error);
}

function caseItem(c, token) {
  return el("li", { "data-case": String(c.id) },
    el("div", { class: "member" },
      el("strong", {}, `${t("r.case_number")} ${c.id}`),
      el("span", { class: `status ${c.status}` }, label("status", c.status))),
    el("div", {}, label("category", c.category), " · ", c.description),
    el("div", { class: "sub" }, t("r.reported_at", { time: time(c.reported_at) }),
      c.grid ? ` · ${t("r.sent_to", { grid: c.grid[1] })}` : "",
      c.expected && !["closed", "evaluated", "rejected", "merged"].includes(c.status) ? ` · ${t("r.expected", { time: time(c.expected) })}` : ""),
    c.steps.length ? el("ol", { class: "steps" }, c.steps.map((s) => el("li", {}, `${time(s.at)} ${label("action", s.action)}`))) : null,
    c.merged_into ? el("div", { class: "sub" }, t("r.merged", { id: c.merged_into })) : null,
    c.satisfaction ? el("div", { class: "evaluated" }, t("r.evaluated", { n: c.satisfaction }), " ", "★".repeat(c.satisfaction)) : null,
    c.may_evaluate ? stars(c, token) : null);
}

async function showMine() {
  const list = read(CASES_KEY, []);
  const items = [];
  for (const m of list) {
    const r = await api(`/r/cases/${m.id}`, { headers: { "x-tracking-token": m.token } });
    if (r.ok) items.push(caseItem(r.body, m.token));
    else items.push(el("li", { "data-case": String(m.id) }, `${t("r.case_number")} ${m.id}: ${why(r)}`));
  }
  $("mine").replaceChildren(...items);
  $("mine-none").hidden = items.length > 0;
}

// ---------------------------------------------------------------- start

async function start() {
  await loadCatalogue();
  applyI18n();
  document.title = t("r.title");
  const d = await api("/r/district");
  if (d.ok) { state.district = d.body; $("district").textContent = d.body.name; }
  const services = await api("/open311/v2/services.json");
  const select = $("category");
  select.replaceChildren(el("option", { value: "" }, t("r.category.choose")),
    ...(services.ok ? services.body : []).map((s) => el("option", { value: s.service_code }, label("category", s.service_code))));
  $("locate").addEventListener("click", locate);
  $("pick").addEventListener("click", openMap);
  $("report").addEventListener("submit", submit);
  $("again").addEventListener("click", () => { $("done").hidden = true; $("report").hidden = false; });
  const q = new URL(location.href).searchParams;
  if (q.get("b")) await findPlace({ b: q.get("b"), ...(q.get("u") ? { u: q.get("u") } : {}) });
  await showMine();
  document.body.dataset.ready = "true";
}

start();
