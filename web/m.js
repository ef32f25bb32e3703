// The grid staff's handheld (/m/): my grids' buildings, units and
// households, household visits, my cases and new reports, all working with
// no network. What the service sent (the slice) and what was done on the
// phone (the queue) are kept apart in IndexedDB (m-store.js): the screens
// show the service's version with the phone's unsent changes over it, and
// a sync sends the queue — each change with the version it was based on —
// then asks only for what changed (POST /m/slice/delta). A change the
// service refuses because the thing changed meanwhile becomes a conflict
// with both versions, kept until the user chooses.
import { i18n, loadCatalogue, t, label, time, localDate, applyI18n, keys } from "/web/i18n.js";
import * as store from "/web/m-store.js";
import { checkHousehold } from "/web/m-check.js";

const $ = (id) => document.getElementById(id);

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

const ui = { tab: "households", building: null, unit: null, household: null, caseId: null, query: "", editing: false };
const data = { meta: null, grids: [], buildings: [], households: [], cases: [], visits: [], queue: [], conflicts: [] };
let me = null;
let syncing = null;

// ---------------------------------------------------------------- talking to the service

/** A network failure (no answer), as opposed to an answer that refuses. */
class Offline extends Error {}

async function call(url, init = {}) {
  const headers = new Headers(init.headers);
  headers.set("accept-language", i18n.lang);
  let r;
  try {
    r = await fetch(url, { ...init, headers, credentials: "same-origin" });
  } catch (e) {
    if (reachable) { reachable = false; showNet(); }
    throw new Offline(String(e));
  }
  if (!reachable) { reachable = true; showNet(); }
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { detail: text }; }
  return { status: r.status, ok: r.ok, body, headers: r.headers, bytes: text.length };
}

// What the person is told: a lasting notice (the slice was wiped) stays
// above the passing ones (synced, no network) until a sync succeeds.
const told = { lasting: "", passing: "" };
function notice(msg, { lasting = false } = {}) {
  told[lasting ? "lasting" : "passing"] = msg || "";
  const n = $("notice");
  n.textContent = [told.lasting, told.passing].filter(Boolean).join(" ");
  n.hidden = !n.textContent;
}

// Whether the service answered the last call: the browser's own flag says
// only that there is a network, not that the service can be reached.
let reachable = navigator.onLine;

function showNet() {
  const on = reachable;
  const n = $("net");
  n.textContent = on ? t("m.net.online") : t("m.net.offline");
  n.classList.toggle("offline", !on);
}

// ---------------------------------------------------------------- what is kept

async function load() {
  data.meta = (await store.get("meta", "slice")) || null;
  for (const s of ["grids", "buildings", "households", "cases", "visits", "queue", "conflicts"]) {
    data[s] = await store.all(s);
  }
  data.buildings.sort((a, b) => a.code.localeCompare(b.code));
  data.households.sort((a, b) => a.id - b.id);
  data.cases.sort((a, b) => b.id - a.id);
}

/** Wipes the slice when it has not reached the service for longer than allowed. */
async function expireIfStale() {
  const m = data.meta;
  if (!m) return false;
  const quiet = Date.now() - Date.parse(m.last_contact);
  if (quiet > m.expires_after_s * 1000) {
    await store.wipe(false);
    await load();
    notice(t("m.expired", { hours: Math.round(m.expires_after_s / 3600) }), { lasting: true });
    return true;
  }
  return false;
}

/** The household as the phone shows it: the service's version with unsent changes over it. */
function shown(h) {
  const out = { ...h, pending: false };
  for (const q of data.queue) {
    if (q.kind === "household" && q.id === h.id) {
      Object.assign(out, q.fields);
      out.pending = true;
    }
  }
  out.conflict = data.conflicts.some((c) => c.kind === "household" && c.id === h.id);
  return out;
}

function householdsOf(unitId) {
  return data.households.filter((h) => h.unit === unitId).map(shown);
}

function visitsOf(id) {
  const kept = data.visits.filter((v) => v.household === id).map((v) => ({ ...v, pending: false }));
  const queued = data.queue.filter((q) => q.kind === "visit" && q.household === id)
    .map((q) => ({ date: q.date, note: q.note, by: me?.user ?? data.meta?.user, pending: true, photoBlob: q.photo }));
  return [...kept, ...queued];
}

// ---------------------------------------------------------------- sync

function known() {
  const k = { households: {}, cases: {}, grids: {}, visits_after: data.meta?.totals?.last_visit ?? 0 };
  for (const h of data.households) k.households[h.id] = h.etag;
  for (const c of data.cases) k.cases[c.id] = c.state.seq;
  for (const g of data.grids) k.grids[g.code] = g.version;
  return k;
}

/** Puts a slice (whole or a delta) into the store. */
async function apply(slice, bytes, ms) {
  const w = [];
  if (!slice.delta) {
    await store.clear(store.SLICE_STORES);
  }
  if (slice.grids) {
    await store.clear(["grids", "buildings"]);
    for (const g of slice.grids) w.push({ store: "grids", value: g });
    for (const b of slice.buildings) w.push({ store: "buildings", value: b });
  }
  for (const h of slice.households) w.push({ store: "households", value: h });
  for (const id of slice.removed_households) w.push({ store: "households", delete: id });
  for (const c of slice.cases) w.push({ store: "cases", value: c });
  for (const id of slice.removed_cases) w.push({ store: "cases", delete: id });
  for (const v of slice.visits) w.push({ store: "visits", value: { ...v, key: `v${v.id}` } });
  const last = {
    kind: slice.delta ? "delta" : "full", bytes, ms,
    households: slice.households.length, cases: slice.cases.length, visits: slice.visits.length,
    at: new Date().toISOString(),
  };
  w.push({
    store: "meta", key: "slice", value: {
      user: slice.user, version: slice.version, bbox: slice.bbox, made_at: slice.made_at,
      expires_after_s: slice.expires_after_s, last_contact: new Date().toISOString(),
      totals: slice.totals, last,
    },
  });
  await store.write(w);
  if (slice.grids) await keepTiles(slice.bbox);
}

// Web Mercator pixels at zoom z.
const px = (lon, z) => ((lon + 180) / 360) * 256 * 2 ** z;
const py = (lat, z) => {
  const s = Math.sin((lat * Math.PI) / 180);
  return (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256 * 2 ** z;
};
const lonOf = (x, z) => (x / (256 * 2 ** z)) * 360 - 180;
const latOf = (y, z) => (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / (256 * 2 ** z)))) * 180) / Math.PI;

/** The zoom at which the box fills `width` pixels. */
function fitZoom(bbox, width) {
  for (let z = 19; z >= 10; z--) {
    if (px(bbox[2], z) - px(bbox[0], z) <= width && py(bbox[1], z) - py(bbox[3], z) <= width) return z;
  }
  return 10;
}

/** Keeps the plan-map tiles of the grids' box on the phone (three zooms). */
async function keepTiles(bbox) {
  if (!("caches" in window)) return;
  await caches.delete(store.TILES);
  const c = await caches.open(store.TILES);
  const z0 = fitZoom(bbox, 360);
  const urls = [];
  for (let z = z0; z <= Math.min(z0 + 2, 19); z++) {
    const x0 = Math.floor(px(bbox[0], z) / 256), x1 = Math.floor(px(bbox[2], z) / 256);
    const y0 = Math.floor(py(bbox[3], z) / 256), y1 = Math.floor(py(bbox[1], z) / 256);
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) urls.push(`/tiles/plan/${z}/${x}/${y}.png`);
  }
  // A few hundred at most: the box of one staff member's grids.
  await Promise.all(urls.slice(0, 400).map((u) => c.add(u).catch(() => {})));
}

/** Sends one queued change; "done", "conflict", "refused", "auth" or throws Offline. */
async function send(q) {
  const json = (body) => ({ "content-type": "application/json", ...body });
  const photo = async (url, blob, key) => {
    const r = await call(url, { method: "POST", headers: { "content-type": blob.type || "image/jpeg", "idempotency-key": key }, body: blob });
    return r;
  };
  const save = (patch) => store.write([{ store: "queue", value: Object.assign(q, patch) }]);
  const outcome = (r) => {
    if (r.status === 401) return "auth";
    return null;
  };
  if (q.kind === "household") {
    const r = await call(`/households/${q.id}`, {
      method: "PUT", headers: json({ "if-match": q.etag }), body: JSON.stringify(q.fields),
    });
    if (r.ok) return "done";
    if (outcome(r)) return outcome(r);
    if (r.status === 412) return { conflict: { theirs: r.body.current, etag: r.body.etag, detail: r.body.detail } };
    return { refused: r.body?.detail || r.body?.title || String(r.status) };
  }
  if (q.kind === "visit") {
    if (q.photo && !q.photo_id) {
      const r = await photo(`/households/${q.household}/photos`, q.photo, `${q.key}-p`);
      if (outcome(r)) return outcome(r);
      if (!r.ok) return { refused: r.body?.detail || String(r.status) };
      await save({ photo_id: r.body.id });
    }
    const r = await call(`/households/${q.household}/visits`, {
      method: "POST", headers: json({ "idempotency-key": q.key }),
      body: JSON.stringify({ date: q.date, note: q.note, ...(q.photo_id ? { photo: q.photo_id } : {}) }),
    });
    if (r.ok) return "done";
    return outcome(r) || { refused: r.body?.detail || String(r.status) };
  }
  if (q.kind === "file") {
    if (!q.case_id) {
      const r = await call("/incidents", {
        method: "POST", headers: json({ "idempotency-key": q.key }),
        body: JSON.stringify({ lon: q.lon, lat: q.lat, category: q.category, description: q.description, source: "patrol", reported_at: q.queued_at }),
      });
      if (outcome(r)) return outcome(r);
      if (!r.ok) return { refused: r.body?.detail || String(r.status) };
      await save({ case_id: r.body.id, seq: r.body.state?.seq ?? 0 });
    }
    const ids = q.photo_ids || [];
    for (let i = ids.length; i < (q.photos || []).length; i++) {
      const r = await photo(`/incidents/${q.case_id}/photos`, q.photos[i], `${q.key}-p${i}`);
      if (outcome(r)) return outcome(r);
      if (!r.ok) return { refused: r.body?.detail || String(r.status) };
      ids.push(r.body.id);
      await save({ photo_ids: ids });
    }
    return "done";
  }
  if (q.kind === "step") {
    const ids = q.photo_ids || [];
    for (let i = ids.length; i < (q.photos || []).length; i++) {
      const r = await photo(`/incidents/${q.case}/photos`, q.photos[i], `${q.key}-p${i}`);
      if (outcome(r)) return outcome(r);
      if (!r.ok) return { refused: r.body?.detail || String(r.status) };
      ids.push(r.body.id);
      await save({ photo_ids: ids });
    }
    const r = await call(`/incidents/${q.case}/steps`, {
      method: "POST", headers: json({ "if-match": `"${q.seq}"`, "idempotency-key": q.key }),
      body: JSON.stringify({ action: q.action, note: q.note, photos: ids }),
    });
    if (r.ok) return "done";
    if (outcome(r)) return outcome(r);
    if (r.status === 409) {
      const now = await call(`/incidents/${q.case}`);
      return { conflict: { theirs: now.ok ? now.body : null, detail: r.body?.detail } };
    }
    return { refused: r.body?.detail || String(r.status) };
  }
  return { refused: `unknown change ${q.kind}` };
}

/** Sends the queue, then fetches what changed; `quiet`: no word when there is no network (a sync the person did not ask for). */
async function sync({ quiet = false } = {}) {
  if (syncing) return syncing;
  syncing = (async () => {
    $("sync").disabled = true;
    try {
      const who = await call("/me");
      if (!who.body?.signed_in) return signedOut();
      me = who.body;
      for (const q of await store.all("queue")) {
        if (q.user && q.user !== me.user) continue;
        const r = await send(q);
        if (r === "auth") return signedOut();
        const w = [{ store: "queue", delete: q.n }];
        if (r !== "done") {
          const { n, ...rest } = q;
          w.push({ store: "conflicts", value: { ...rest, from: n, ...(r.conflict ? { type: "conflict", ...r.conflict } : { type: "refused", detail: r.refused }) } });
        }
        await store.write(w);
      }
      const t0 = performance.now();
      const r = data.meta && data.meta.user === me.user
        ? await call("/m/slice/delta", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(known()) })
        : await call("/m/slice");
      if (r.status === 401) return signedOut();
      if (r.status === 403) {
        await store.wipe(true);
        await load();
        notice(r.body?.detail);
        return render();
      }
      if (!r.ok) throw new Error(r.body?.detail || String(r.status));
      await apply(r.body, r.bytes, Math.round(performance.now() - t0));
      await load();
      const c = data.conflicts.length;
      notice("", { lasting: true });
      notice(c ? t("m.sync.conflicts", { n: c }) : t("m.sync.done", { time: time(new Date()) }));
    } catch (e) {
      if (e instanceof Offline) { if (!quiet) notice(t("m.sync.offline")); }
      else notice(t("m.sync.failed", { detail: e.message }));
    } finally {
      $("sync").disabled = false;
      syncing = null;
      await load();
      render();
    }
  })();
  return syncing;
}

/** The service no longer knows this phone's sign-in: the slice goes, the queue waits for the same user. */
async function signedOut() {
  const had = !!data.meta;
  await store.wipe(false);
  await load();
  me = null;
  if (had) notice(t("m.signed_out"), { lasting: true });
  showLogin();
}

// ---------------------------------------------------------------- changes made on the phone

function newKey() {
  return `m-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

async function queue(item) {
  await store.enqueue({ ...item, user: me?.user ?? data.meta?.user, key: newKey() });
  await load();
  render();
  sync({ quiet: true });
}

// ---------------------------------------------------------------- screens

function setTab(tab) {
  ui.tab = tab;
  render();
}

function render() {
  for (const b of document.querySelectorAll("#tabs button")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === ui.tab));
    if (b.dataset.tab === "sync") {
      const n = data.queue.length + data.conflicts.length;
      b.textContent = n ? `${t("m.tab.sync")} (${n})` : t("m.tab.sync");
    }
  }
  const v = $("view");
  v.replaceChildren();
  if (!data.meta) {
    v.append(el("p", { class: "hint" }, t("m.no_slice")));
    return;
  }
  ({ households: householdsView, cases: casesView, report: reportView, sync: syncView })[ui.tab](v);
}

function crumbs() {
  const out = el("div", { class: "crumbs" });
  out.append(el("button", { type: "button", onclick: () => { Object.assign(ui, { building: null, unit: null, household: null }); render(); } }, t("m.grids.all")));
  const b = data.buildings.find((x) => x.code === ui.building);
  if (b) out.append(el("button", { type: "button", onclick: () => { Object.assign(ui, { unit: null, household: null }); render(); } }, b.address || b.code));
  const u = b?.units.find((x) => x.id === ui.unit);
  if (u) out.append(el("button", { type: "button", onclick: () => { ui.household = null; render(); } }, u.label));
  return out;
}

function householdLine(h) {
  return el("li", { class: "pick household", "data-id": h.id, onclick: () => { ui.household = h.id; ui.editing = false; render(); } },
    el("strong", {}, h.room || "—"), " ", h.head_name || t("m.household.vacant"),
    h.pending ? el("span", { class: "badge pending" }, t("m.pending")) : null,
    h.conflict ? el("span", { class: "badge conflict" }, t("m.conflict")) : null,
    el("div", { class: "sub" }, `${t("m.household.headcount")} ${h.headcount}`));
}

function householdsView(v) {
  const search = el("input", { id: "search", type: "search", placeholder: t("m.search"), value: ui.query, "aria-label": t("m.search") });
  search.addEventListener("input", () => { ui.query = search.value; renderList(); search.focus(); });
  const grids = data.grids.map((g) => `${g.name}（${g.code}）`).join("、");
  v.append(el("p", { class: "hint", id: "my-grids" }, t("m.grids.mine", { grids })), search);
  const list = el("div", { id: "browse" });
  v.append(list);
  const renderList = () => {
    list.replaceChildren();
    const q = ui.query.trim();
    if (ui.household) return list.append(crumbs(), householdCard(data.households.find((h) => h.id === ui.household)));
    if (q) {
      const hs = data.households.map(shown).filter((h) =>
        [h.room, h.head_name, h.phone, h.building, data.buildings.find((b) => b.code === h.building)?.address]
          .some((s) => s && s.includes(q)));
      list.append(el("p", { class: "hint" }, t("m.search.found", { n: hs.length })));
      list.append(el("ul", { class: "list" }, hs.slice(0, 200).map((h) => {
        const li = householdLine(h);
        const b = data.buildings.find((x) => x.code === h.building);
        li.append(el("div", { class: "sub" }, b?.address || h.building));
        li.addEventListener("click", () => { ui.building = h.building; ui.unit = h.unit; });
        return li;
      })));
      return;
    }
    list.append(crumbs());
    const b = data.buildings.find((x) => x.code === ui.building);
    if (!b) {
      list.append(el("ul", { class: "list", id: "buildings" }, data.buildings.map((x) => el("li", {
        class: "pick building", "data-code": x.code, onclick: () => { ui.building = x.code; render(); },
      }, el("strong", {}, x.address || x.code), el("div", { class: "sub" }, t("m.building.units", { code: x.code, n: x.units.length, floors: x.floors }))))));
      return;
    }
    const u = b.units.find((x) => x.id === ui.unit);
    if (!u) {
      list.append(el("ul", { class: "list", id: "units" }, b.units.map((x) => el("li", {
        class: "pick unit", "data-id": x.id, onclick: () => { ui.unit = x.id; render(); },
      }, el("strong", {}, x.label), el("div", { class: "sub" }, t("m.unit.households", { n: data.households.filter((h) => h.unit === x.id).length }))))));
      return;
    }
    list.append(el("ul", { class: "list", id: "households" }, householdsOf(u.id).map(householdLine)));
  };
  renderList();
}

const FIELDS = ["room", "headcount", "head_name", "phone", "id_number"];

function photoThumb(p) {
  if (p.photoBlob) return el("img", { src: URL.createObjectURL(p.photoBlob), alt: t("m.photo") });
  if (p.photo) return el("img", { src: `/photos/${p.photo}?thumb=true`, alt: t("m.photo") });
  return null;
}

function householdCard(raw) {
  if (!raw) return el("p", {}, t("m.household.gone"));
  const h = shown(raw);
  const b = data.buildings.find((x) => x.code === h.building);
  const u = b?.units.find((x) => x.id === h.unit);
  const card = el("div", { class: "card", id: "household-card", "data-id": h.id },
    el("h2", {}, `${b?.address || h.building} ${u?.label || ""} ${h.room}`),
    h.pending ? el("span", { class: "badge pending" }, t("m.pending")) : null,
    h.conflict ? el("span", { class: "badge conflict" }, t("m.conflict.open")) : null,
    el("dl", { class: "fields" }, FIELDS.flatMap((f) => [el("dt", {}, t(`m.household.${f}`)), el("dd", { "data-field": f }, h[f] ?? "—")])));
  if (!ui.editing) {
    card.append(el("div", { class: "row" },
      el("button", { type: "button", class: "primary", id: "visit", onclick: () => { ui.editing = true; render(); } }, t("m.visit.start"))));
  } else {
    card.append(visitForm(h));
  }
  const vs = visitsOf(h.id);
  card.append(el("h3", {}, t("m.visits", { n: vs.length })), el("ul", { class: "list", id: "visits" }, vs.map((x) => el("li", { class: "visit" },
    el("strong", {}, x.date), " ", x.by || "", x.pending ? el("span", { class: "badge pending" }, t("m.pending")) : null,
    el("div", {}, x.note), el("div", { class: "thumbs" }, photoThumb(x))))));
  return card;
}

function visitForm(h) {
  const f = el("form", { id: "visit-form", novalidate: true });
  const inputs = {};
  const row = (name, input) => {
    inputs[name] = input;
    return el("label", {}, el("span", {}, t(`m.household.${name}`)), input, el("span", { class: "field-error", "data-error": name }));
  };
  f.append(
    row("room", el("input", { name: "room", value: h.room })),
    row("headcount", el("input", { name: "headcount", type: "number", min: 0, inputmode: "numeric", value: h.headcount })),
    row("head_name", el("input", { name: "head_name", value: h.head_name ?? "" })),
    row("phone", el("input", { name: "phone", type: "tel", value: h.phone ?? "" })),
    row("id_number", el("input", { name: "id_number", value: h.id_number ?? "", autocapitalize: "characters" })),
    el("div", { class: "row" },
      el("button", { type: "button", id: "move-out", onclick: () => {
        for (const k of ["head_name", "phone", "id_number"]) inputs[k].value = "";
        inputs.headcount.value = 0;
        note.value = note.value || t("m.visit.moved_out");
      } }, t("m.household.move_out")),
      el("button", { type: "button", id: "move-in", onclick: () => {
        for (const k of ["head_name", "phone", "id_number"]) inputs[k].value = "";
        inputs.headcount.value = 1;
        note.value = note.value || t("m.visit.moved_in");
        inputs.head_name.focus();
      } }, t("m.household.move_in"))),
  );
  const date = el("input", { name: "date", type: "date", value: localDate(new Date()), max: localDate(new Date()) });
  const note = el("textarea", { name: "note", maxlength: 2000 });
  const photo = el("input", { name: "photo", type: "file", accept: "image/jpeg,image/png", capture: "environment" });
  f.append(
    el("label", {}, el("span", {}, t("m.visit.date")), date),
    el("label", {}, el("span", {}, t("m.visit.note")), note),
    el("label", {}, el("span", {}, t("m.visit.photo")), photo),
    el("div", { class: "row" },
      el("button", { type: "submit", class: "primary" }, t("m.visit.save")),
      el("button", { type: "button", onclick: () => { ui.editing = false; render(); } }, t("m.cancel"))),
  );
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const val = (k) => inputs[k].value.trim();
    const next = {
      room: val("room"), headcount: Number(val("headcount")),
      head_name: val("head_name") || null, phone: val("phone") || null,
      id_number: val("id_number") ? val("id_number").toUpperCase() : null,
    };
    for (const n of f.querySelectorAll("[data-error]")) n.textContent = "";
    const problems = checkHousehold(next);
    if (problems.length) {
      for (const p of problems) f.querySelector(`[data-error="${p.field}"]`).textContent = t(p.key, p.params);
      return;
    }
    const fields = {};
    for (const k of FIELDS) if ((next[k] ?? null) !== (h[k] ?? null)) fields[k] = next[k];
    const raw = data.households.find((x) => x.id === h.id);
    if (Object.keys(fields).length) {
      const before = {};
      for (const k of Object.keys(fields)) before[k] = raw[k] ?? null;
      await store.enqueue({ kind: "household", id: h.id, etag: raw.etag, fields, before, user: me?.user ?? data.meta?.user, key: newKey() });
    }
    await store.enqueue({
      kind: "visit", household: h.id, date: date.value, note: note.value.trim(),
      photo: photo.files[0] || null, user: me?.user ?? data.meta?.user, key: newKey(),
    });
    ui.editing = false;
    await load();
    render();
    notice(t("m.visit.saved"));
    sync({ quiet: true });
  });
  return f;
}

// Steps a grid staff member takes from the phone.
const MY_STEPS = ["accept", "handle", "feedback"];

function pendingSteps(id) {
  return data.queue.filter((q) => q.kind === "step" && q.case === id);
}

function casesView(v) {
  const c = data.cases.find((x) => x.id === ui.caseId);
  if (c) return v.append(caseCard(c));
  const filed = data.queue.filter((q) => q.kind === "file");
  if (filed.length) {
    v.append(el("h3", {}, t("m.cases.filed")), el("ul", { class: "list", id: "filed" }, filed.map((q) => el("li", {},
      label("category", q.category), " ", el("span", { class: "badge pending" }, t("m.pending")), el("div", { class: "sub" }, q.description)))));
  }
  v.append(el("h3", {}, t("m.cases.mine", { n: data.cases.length })));
  v.append(el("ul", { class: "list", id: "cases" }, data.cases.map((x) => el("li", {
    class: "pick case", "data-id": x.id, onclick: () => { ui.caseId = x.id; render(); },
  }, el("strong", {}, `#${x.id} ${label("category", x.incident.category)}`), " ",
  el("span", { class: "badge" }, label("status", x.state.status)),
  pendingSteps(x.id).length ? el("span", { class: "badge pending" }, t("m.pending")) : null,
  x.overdue ? el("span", { class: "badge conflict" }, t("m.case.overdue")) : null,
  el("div", { class: "sub" }, `${x.route?.grid?.name ?? ""} · ${time(x.incident.reported_at)}`),
  el("div", { class: "sub" }, x.incident.description || "")))));
}

function caseCard(c) {
  const pend = pendingSteps(c.id);
  const card = el("div", { class: "card", id: "case-card", "data-id": c.id },
    el("div", { class: "row" }, el("button", { type: "button", onclick: () => { ui.caseId = null; render(); } }, t("m.back"))),
    el("h2", {}, `#${c.id} ${label("category", c.incident.category)}`),
    el("dl", { class: "fields" },
      el("dt", {}, t("m.case.status")), el("dd", { id: "case-status" }, label("status", c.state.status)),
      el("dt", {}, t("m.case.grid")), el("dd", {}, c.route?.grid?.name ?? "—"),
      el("dt", {}, t("m.case.reported")), el("dd", {}, time(c.incident.reported_at)),
      el("dt", {}, t("m.case.deadline")), el("dd", {}, c.deadline ? time(c.deadline) : "—"),
      el("dt", {}, t("m.case.description")), el("dd", {}, c.incident.description || "—"),
      // Who reported it and how to call them back, when they said.
      ...(c.incident.reporter && (c.incident.reporter.name || c.incident.reporter.address || c.incident.reporter.phone) ? [el("dt", {}, t("m.case.reporter")), el("dd", { id: "case-reporter" },
        [c.incident.reporter.name, c.incident.reporter.address].filter(Boolean).join(" · "), " ",
        c.incident.reporter.phone ? el("a", { href: `tel:${c.incident.reporter.phone.replace(/[^0-9+]/g, "")}` }, c.incident.reporter.phone) : null)] : [])));
  card.append(el("h3", {}, t("m.case.history")), el("ul", { class: "list", id: "history" }, c.history.map((e) => el("li", {},
    el("strong", {}, label("action", e.action)), " ", e.actor, " ", time(e.at), e.note ? el("div", {}, e.note) : null,
    el("div", { class: "thumbs" }, (e.photos || []).map((p) => el("img", { src: `/photos/${p}?thumb=true`, alt: t("m.photo") }))))),
  pend.map((q) => el("li", { class: "pending-step" }, el("strong", {}, label("action", q.action)), " ", el("span", { class: "badge pending" }, t("m.pending")), q.note ? el("div", {}, q.note) : null))));
  if (pend.length) return card;
  const mine = c.allowed.filter((a) => MY_STEPS.includes(a));
  if (!mine.length) return card;
  const f = el("form", { id: "step-form" });
  const note = el("textarea", { name: "note", maxlength: 2000, placeholder: t("m.step.note") });
  const photo = el("input", { name: "photo", type: "file", accept: "image/jpeg,image/png", capture: "environment", multiple: true });
  f.append(el("label", {}, el("span", {}, t("m.step.note")), note), el("label", {}, el("span", {}, t("m.step.photos")), photo),
    el("div", { class: "row" }, mine.map((a) => el("button", { type: "submit", class: "primary", value: a, "data-action": a }, label("action", a)))));
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const action = e.submitter?.value;
    if (!action) return;
    await queue({ kind: "step", case: c.id, seq: c.state.seq, action, note: note.value.trim(), photos: [...photo.files] });
  });
  card.append(f);
  return card;
}

// The report form: where (the phone's position, a building, or a tap on the map), what, photos.
const report = { at: null, how: null };

function reportView(v) {
  const cats = keys("category.").map((k) => k.slice("category.".length));
  const category = el("select", { name: "category", id: "category" }, cats.map((c) => el("option", { value: c }, label("category", c))));
  const description = el("textarea", { name: "description", id: "description", maxlength: 2000, required: true });
  const photos = el("input", { name: "photos", type: "file", accept: "image/jpeg,image/png", capture: "environment", multiple: true });
  const where = el("p", { id: "where", class: "hint" }, report.at ? t(`m.report.at.${report.how}`, { lon: report.at[0].toFixed(6), lat: report.at[1].toFixed(6) }) : t("m.report.nowhere"));
  const building = el("select", { id: "report-building", "aria-label": t("m.report.building") },
    el("option", { value: "" }, t("m.report.building")),
    data.buildings.map((b) => el("option", { value: b.code }, b.address || b.code)));
  building.addEventListener("change", () => {
    const b = data.buildings.find((x) => x.code === building.value);
    if (b) { report.at = b.location; report.how = "building"; render(); }
  });
  const gps = el("button", { type: "button", id: "gps", onclick: () => {
    if (!navigator.geolocation) return notice(t("m.report.no_gps"));
    navigator.geolocation.getCurrentPosition(
      (p) => { report.at = [p.coords.longitude, p.coords.latitude]; report.how = "gps"; render(); },
      (err) => notice(t("m.report.gps_failed", { detail: err.message })),
      { enableHighAccuracy: true, timeout: 15000 });
  } }, t("m.report.gps"));
  const f = el("form", { id: "report-form" },
    el("div", { class: "row" }, gps, building),
    el("p", { class: "hint" }, t("m.report.wgs84")),
    mapView((lonlat) => { report.at = lonlat; report.how = "map"; render(); }),
    where,
    el("label", {}, el("span", {}, t("m.report.category")), category),
    el("label", {}, el("span", {}, t("m.report.description")), description),
    el("label", {}, el("span", {}, t("m.report.photos")), photos),
    el("button", { type: "submit", class: "primary" }, t("m.report.submit")));
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!report.at) return notice(t("m.report.nowhere"));
    if (!description.value.trim()) return notice(t("m.report.no_description"));
    const [lon, lat] = report.at;
    await queue({ kind: "file", lon, lat, category: category.value, description: description.value.trim(), photos: [...photos.files], how: report.how });
    report.at = null;
    notice(t("m.report.saved"));
    ui.tab = "cases";
    render();
  });
  v.append(f);
}

/** The plan map of my grids from the kept tiles, with the grids' outlines, buildings and the chosen place. */
function mapView(onPick) {
  const box = el("div", { class: "map", id: "map", role: "img", "aria-label": t("m.map") });
  requestAnimationFrame(() => {
    const w = box.clientWidth || 360;
    const bbox = data.meta.bbox;
    const z = Math.min(fitZoom(bbox, w) + 1, 19);
    const cx = (px(bbox[0], z) + px(bbox[2], z)) / 2, cy = (py(bbox[1], z) + py(bbox[3], z)) / 2;
    const x0 = cx - w / 2, y0 = cy - w / 2;
    for (let tx = Math.floor(x0 / 256); tx <= Math.floor((x0 + w) / 256); tx++) {
      for (let ty = Math.floor(y0 / 256); ty <= Math.floor((y0 + w) / 256); ty++) {
        box.append(el("img", { class: "tile", alt: "", src: `/tiles/plan/${z}/${tx}/${ty}.png`, style: `left:${tx * 256 - x0}px;top:${ty * 256 - y0}px` }));
      }
    }
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const at = (c) => `${px(c[0], z) - x0},${py(c[1], z) - y0}`;
    for (const g of data.grids) {
      const polys = g.geometry.type === "MultiPolygon" ? g.geometry.coordinates : [g.geometry.coordinates];
      for (const p of polys) {
        const e = document.createElementNS(ns, "polygon");
        e.setAttribute("points", p[0].map(at).join(" "));
        e.setAttribute("fill", "none"); e.setAttribute("stroke", "#b91c1c"); e.setAttribute("stroke-width", "3");
        svg.append(e);
      }
    }
    for (const b of data.buildings) {
      const e = document.createElementNS(ns, "circle");
      const [x, y] = at(b.location).split(",");
      e.setAttribute("cx", x); e.setAttribute("cy", y); e.setAttribute("r", "3"); e.setAttribute("fill", "#1d4ed8");
      svg.append(e);
    }
    if (report.at) {
      const e = document.createElementNS(ns, "circle");
      const [x, y] = at(report.at).split(",");
      e.setAttribute("cx", x); e.setAttribute("cy", y); e.setAttribute("r", "8"); e.setAttribute("fill", "#f59e0b");
      e.setAttribute("stroke", "#fff"); e.setAttribute("stroke-width", "2"); e.setAttribute("id", "pin");
      svg.append(e);
    }
    box.append(svg);
    box.addEventListener("click", (e) => {
      const r = box.getBoundingClientRect();
      onPick([lonOf(x0 + e.clientX - r.left, z), latOf(y0 + e.clientY - r.top, z)]);
    });
  });
  return box;
}

function versionsTable(c) {
  const fields = Object.keys(c.fields || {});
  return el("table", { class: "versions" },
    el("tr", {}, el("th", {}, ""), el("th", {}, t("m.conflict.mine")), el("th", {}, t("m.conflict.theirs"))),
    fields.map((f) => el("tr", { class: (c.theirs?.[f] ?? null) !== (c.fields[f] ?? null) ? "differs" : "" },
      el("th", {}, t(`m.household.${f}`)), el("td", { "data-mine": f }, c.fields[f] ?? "—"), el("td", { "data-theirs": f }, c.theirs?.[f] ?? "—"))));
}

function conflictItem(c) {
  const li = el("li", { class: `conflict ${c.type}`, "data-n": c.n });
  const drop = async () => { await store.write([{ store: "conflicts", delete: c.n }]); await load(); render(); };
  if (c.kind === "household") {
    const h = data.households.find((x) => x.id === c.id);
    li.append(el("strong", {}, t("m.conflict.household", { room: h?.room ?? c.theirs?.room ?? c.id, building: h?.building ?? c.theirs?.building ?? "" })));
    if (c.type === "conflict") {
      li.append(el("p", { class: "sub" }, t("m.conflict.changed")), versionsTable(c), el("div", { class: "row" },
        el("button", { type: "button", class: "primary", "data-resolve": "mine", onclick: async () => {
          await store.write([{ store: "conflicts", delete: c.n }]);
          await store.enqueue({ kind: "household", id: c.id, etag: c.etag, fields: c.fields, before: c.theirs, user: c.user, key: newKey() });
          await load(); render(); sync({ quiet: true });
        } }, t("m.conflict.keep_mine")),
        el("button", { type: "button", "data-resolve": "theirs", onclick: drop }, t("m.conflict.keep_theirs"))));
      return li;
    }
  } else if (c.kind === "step") {
    li.append(el("strong", {}, t("m.conflict.step", { id: c.case, action: label("action", c.action) })));
    if (c.type === "conflict") {
      const now = c.theirs;
      li.append(el("p", { class: "sub" }, t("m.conflict.case_moved", { status: label("status", now?.state?.status ?? "") })));
      const again = now && now.allowed.includes(c.action);
      li.append(el("div", { class: "row" },
        again ? el("button", { type: "button", class: "primary", "data-resolve": "retry", onclick: async () => {
          await store.write([{ store: "conflicts", delete: c.n }]);
          const { n, type, theirs, detail, from, ...step } = c;
          await store.enqueue({ ...step, seq: now.state.seq, key: newKey() });
          await load(); render(); sync({ quiet: true });
        } }, t("m.conflict.retry")) : null,
        el("button", { type: "button", "data-resolve": "drop", onclick: drop }, t("m.conflict.drop"))));
      return li;
    }
  } else {
    li.append(el("strong", {}, t(`m.queue.${c.kind}`)));
  }
  li.append(el("p", { class: "error" }, t("m.conflict.refused", { detail: c.detail })),
    el("div", { class: "row" }, el("button", { type: "button", "data-resolve": "drop", onclick: drop }, t("m.conflict.drop"))));
  return li;
}

function syncView(v) {
  const m = data.meta;
  const last = m.last;
  v.append(el("div", { class: "card", id: "sync-info" },
    el("dl", { class: "fields" },
      el("dt", {}, t("m.sync.user")), el("dd", {}, m.user),
      el("dt", {}, t("m.sync.version")), el("dd", { id: "slice-version" }, m.version),
      el("dt", {}, t("m.sync.kept")), el("dd", {}, t("m.sync.kept_counts", { households: data.households.length, cases: data.cases.length, visits: data.visits.length })),
      el("dt", {}, t("m.sync.last")), el("dd", { id: "last-sync", "data-kind": last?.kind, "data-bytes": last?.bytes },
        last ? t(`m.sync.last_${last.kind}`, { time: time(last.at), kb: (last.bytes / 1024).toFixed(1), ms: last.ms, households: last.households, cases: last.cases }) : "—"),
      el("dt", {}, t("m.sync.expires")), el("dd", {}, time(new Date(Date.parse(m.last_contact) + m.expires_after_s * 1000)))),
    el("p", { class: "hint" }, t("m.sync.kept_note"))));
  v.append(el("h3", {}, t("m.queue", { n: data.queue.length })), el("ul", { class: "list", id: "queue" }, data.queue.map((q) => el("li", { class: "queued", "data-kind": q.kind },
    t(`m.queue.${q.kind}`), " ", el("span", { class: "sub" }, time(q.queued_at))))));
  v.append(el("h3", {}, t("m.conflicts", { n: data.conflicts.length })), el("ul", { class: "list", id: "conflicts" }, data.conflicts.map(conflictItem)));
  v.append(el("div", { class: "row" }, el("button", { type: "button", id: "sign-out", onclick: signOut }, t("m.sign_out"))));
}

async function signOut() {
  if (data.queue.length && !window.confirm(t("m.sign_out.unsent", { n: data.queue.length }))) return;
  await call("/logout", { method: "POST" }).catch(() => {});
  await store.wipe(true);
  await load();
  me = null;
  notice(t("m.signed_out.done"), { lasting: true });
  showLogin();
}

function showLogin() {
  $("login-view").hidden = false;
  $("app-view").hidden = true;
  $("login-name").focus();
}

function showApp() {
  $("login-view").hidden = true;
  $("app-view").hidden = false;
  render();
}

// ---------------------------------------------------------------- start

async function start() {
  if ("serviceWorker" in navigator) {
    try {
      await navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" });
    } catch (e) {
      console.warn("no service worker", e);
    }
  }
  await loadCatalogue();
  applyI18n();
  showNet();
  window.addEventListener("online", () => sync());
  window.addEventListener("offline", () => { reachable = false; showNet(); });
  await store.open();
  await load();
  await expireIfStale();
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => setTab(b.dataset.tab));
  $("sync").addEventListener("click", () => sync());
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      const r = await call("/login", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: $("login-name").value, password: $("login-password").value }),
      });
      if (!r.ok) {
        $("login-error").textContent = r.status === 401 ? t("error.login") : (r.body?.detail || String(r.status));
        return;
      }
      $("login-password").value = "";
      const who = await call("/me");
      me = who.body;
      // Another user's unsent changes are not theirs to send.
      const others = (await store.all("queue")).filter((q) => q.user && q.user !== me.user);
      if (others.length) await store.wipe(true);
      showApp();
      await sync();
    } catch (err) {
      $("login-error").textContent = err instanceof Offline ? t("m.sync.offline") : err.message;
    }
  });
  if (data.meta) {
    showApp();
    sync({ quiet: true });
  } else {
    try {
      const who = await call("/me");
      if (who.body?.signed_in) {
        me = who.body;
        showApp();
        await sync();
      } else {
        showLogin();
      }
    } catch {
      notice(t("m.sync.offline"));
      showLogin();
    }
  }
}

window.gridgovM = { ready: start(), sync: () => sync(), data };
