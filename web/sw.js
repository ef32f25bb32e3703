// The handheld's service worker (scope /m/): it keeps the app's own files
// so that the app opens with no network, and serves the plan-map tiles of
// the user's grids from the phone. The data (slice, queue) is not here
// but in IndexedDB (m-store.js); calls to the API always go to the
// network (photos aside, kept once seen).

const SHELL_CACHE = "gridgov-m-shell";
const TILES = "gridgov-m-tiles";
const PHOTOS = "gridgov-m-photos";
const SHELL = [
  "/m/",
  "/m/manifest.webmanifest",
  "/web/m.js",
  "/web/m-store.js",
  "/web/m-check.js",
  "/web/m.css",
  "/web/i18n.js",
  "/web/icon.svg",
  "/i18n",
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const c = await caches.open(SHELL_CACHE);
    await c.addAll(SHELL);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

function isShell(url) {
  return SHELL.includes(url.pathname);
}

// The newest copy when the network answers (kept in `cacheName`), the
// kept one when it does not.
async function networkFirst(request, cacheName) {
  const c = await caches.open(cacheName);
  try {
    const r = await fetch(request);
    if (r.ok) await c.put(request, r.clone());
    return r;
  } catch (e) {
    const kept = await c.match(request, { ignoreVary: true });
    if (kept) return kept;
    if (cacheName === SHELL_CACHE && request.mode === "navigate") {
      const page = await c.match("/m/", { ignoreVary: true });
      if (page) return page;
    }
    throw e;
  }
}

// Tiles kept on the phone first; others from the network when there is one.
async function tile(request) {
  const c = await caches.open(TILES);
  const kept = await c.match(request);
  if (kept) return kept;
  return fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/tiles/plan/")) {
    event.respondWith(tile(request));
  } else if (url.pathname.startsWith("/photos/")) {
    // Photos seen online are kept so that a visit's or a case's photo
    // shows offline; they are personal data and go with the slice
    // (m-store.js wipe).
    event.respondWith(networkFirst(request, PHOTOS));
  } else if (isShell(url) || request.mode === "navigate") {
    event.respondWith(networkFirst(request, SHELL_CACHE));
  }
});
