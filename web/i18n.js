// The pages' words and times. The catalogue comes from the service
// (GET /i18n), the same one its own messages use: Chinese unless ?lang=,
// the language chosen on this device, or the browser's Accept-Language
// say otherwise. Times are shown in the district's time zone.

const LANG_KEY = "gridgov.lang";
let messages = {};
export const i18n = { lang: "zh-CN", timeZone: "Asia/Shanghai", languages: [] };

function saved() {
  try { return localStorage.getItem(LANG_KEY); } catch { return null; }
}

/** Loads the catalogue; call once before anything is shown. */
export async function loadCatalogue() {
  const asked = new URL(window.location.href).searchParams.get("lang") || saved();
  const r = await fetch(`/i18n${asked ? `?lang=${encodeURIComponent(asked)}` : ""}`);
  const body = await r.json();
  messages = body.messages;
  i18n.lang = body.lang;
  i18n.timeZone = body.time_zone;
  i18n.languages = body.languages;
  document.documentElement.lang = body.lang;
  return i18n;
}

/** Remembers a language on this device (the page reloads to show it). */
export function chooseLanguage(code) {
  try { localStorage.setItem(LANG_KEY, code); } catch { /* private mode: this page only */ }
  const u = new URL(window.location.href);
  u.searchParams.delete("lang");
  if (!saved()) u.searchParams.set("lang", code);
  window.location.assign(u);
}

/** The text of `key` with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  let s = messages[key];
  if (s === undefined) {
    console.warn(`no text for ${key}`);
    s = key;
  }
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** The catalogue's keys that start with `prefix`, sorted. */
export function keys(prefix) {
  return Object.keys(messages).filter((k) => k.startsWith(prefix)).sort();
}

/** Whether the catalogue has `key`. */
export function has(key) {
  return key in messages;
}

/** What to show for a code (`category`, `status`, `role`…); an unknown code as words. */
export function label(kind, code) {
  if (code === null || code === undefined) return "";
  return messages[`${kind}.${code}`] ?? String(code).replaceAll("_", " ");
}

/** Translates the page's fixed texts: data-i18n (text), data-i18n-placeholder, -title, -aria-label. */
export function applyI18n(root = document) {
  for (const n of root.querySelectorAll("[data-i18n]")) n.textContent = t(n.dataset.i18n);
  for (const [attr, data] of [["placeholder", "i18nPlaceholder"], ["title", "i18nTitle"], ["aria-label", "i18nAriaLabel"]]) {
    for (const n of root.querySelectorAll(`[data-${attr === "aria-label" ? "i18n-aria-label" : `i18n-${attr}`}]`)) {
      n.setAttribute(attr, t(n.dataset[data]));
    }
  }
}

/** A number in the page's language. */
export function num(v, digits = 1) {
  return new Intl.NumberFormat(i18n.lang, { maximumFractionDigits: digits }).format(v);
}

/** A moment (ISO 8601 or a Date) as the district's local date and time. */
export function time(v) {
  if (!v) return "";
  return new Intl.DateTimeFormat(i18n.lang, {
    timeZone: i18n.timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(new Date(v));
}

/** The district's local date of a moment, as YYYY-MM-DD. */
export function localDate(v) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: i18n.timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date(v));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}
