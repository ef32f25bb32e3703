// The "VR real view" (/panorama?id=N): a 360° panorama in Pannellum with
// the district's own things placed in it — each building, unit entrance,
// merchant and camera in view at the yaw and pitch the service computed
// from the panorama's pose (GET /panoramas/{id}), neighbouring panoramas
// as arrows to walk to; a click on a thing shows what it is and its grid.
import { loadCatalogue, t, applyI18n, num } from "/web/i18n.js";

const $ = (id) => document.getElementById(id);
const state = { viewer: null, data: null };

function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === "class") n.className = v;
    else n.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) n.append(c instanceof Node ? c : String(c));
  return n;
}

/** The words on a hotspot, from the catalogue. */
function words(h) {
  switch (h.kind) {
    case "unit": return t("pano.unit", { building: h.of ?? "", unit: h.label });
    case "camera": return t("pano.camera", { n: h.label });
    case "panorama": return t("pano.walk", { m: num(h.distance_m, 0) });
    default: return h.label;
  }
}

function showInfo(h) {
  $("info-title").textContent = words(h);
  const rows = [[t("pano.kind"), t(`pano.kind.${h.kind}`)], [t("pano.distance"), t("pano.metres", { m: num(h.distance_m, 0) })]];
  if (h.building) rows.push([t("pano.building"), h.building]);
  if (h.grid) rows.push([t("pano.grid"), h.grid]);
  $("info-fields").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  $("info").hidden = false;
  $("info").dataset.kind = h.kind;
}

function hotspot(h) {
  return {
    pitch: h.pitch,
    yaw: h.yaw,
    cssClass: `gg-hotspot gg-${h.kind}`,
    createTooltipFunc: (div) => {
      div.append(el("span", { class: "gg-label", "data-kind": h.kind }, h.kind === "panorama" ? `➤ ${words(h)}` : words(h)));
    },
    clickHandlerFunc: () => {
      if (h.kind === "panorama" && h.panorama) location.search = `?id=${h.panorama}`;
      else showInfo(h);
    },
  };
}

async function main() {
  await loadCatalogue();
  applyI18n();
  const id = new URLSearchParams(location.search).get("id");
  const r = await fetch(`/panoramas/${encodeURIComponent(id ?? "")}`, { headers: { "accept-language": document.documentElement.lang } });
  if (!r.ok) {
    $("notice").textContent = r.status === 401 ? t("pano.sign_in") : t("pano.missing");
    $("notice").hidden = false;
    return;
  }
  const data = await r.json();
  state.data = data;
  const p = data.panorama;
  $("where").textContent = [data.grid ? t("pano.in_grid", { grid: data.grid }) : null, p.captured_at ? t("pano.taken", { at: p.captured_at }) : null].filter(Boolean).join(" · ");
  state.viewer = window.pannellum.viewer("pano", {
    type: "equirectangular",
    panorama: p.image,
    autoLoad: true,
    showControls: true,
    compass: true,
    northOffset: p.heading,
    hfov: 100,
    hotSpots: data.hotspots.map(hotspot),
    strings: { loadingLabel: t("pano.loading"), loadButtonLabel: t("pano.load") },
  });
  state.viewer.on("load", () => { document.body.dataset.loaded = "true"; });
  state.viewer.on("error", (e) => { $("notice").textContent = String(e); $("notice").hidden = false; });
}

$("info-close").addEventListener("click", () => { $("info").hidden = true; });
window.gridgovPano = state;
main().catch((e) => { $("notice").textContent = e.message; $("notice").hidden = false; });
