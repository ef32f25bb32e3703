// What the handheld keeps on the phone, in IndexedDB (it survives a
// reload and a restart of the browser):
// - meta: the slice's version, user, grids' box, when it was made and
//   when the service was last reached (for the expiry);
// - grids, buildings, households, cases, visits: the slice itself;
// - queue: the changes made on the phone, in order, each with the version
//   it was based on, until the service has them;
// - conflicts: changes the service refused because the thing changed
//   meanwhile (both versions kept until the user resolves them) or
//   refused for a reason the user must see.
// The plan-map tiles of the grids are kept in the Cache API (TILES), and
// the photos seen online (PHOTOS, by the service worker).

const DB = "gridgov-m";
const VERSION = 1;
export const SLICE_STORES = ["meta", "grids", "buildings", "households", "cases", "visits"];
export const TILES = "gridgov-m-tiles";
/** Photos of visits and cases seen online (the service worker keeps them). */
export const PHOTOS = "gridgov-m-photos";

let db = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Opens (and on first use creates) the database. */
export async function open() {
  if (db) return db;
  const r = indexedDB.open(DB, VERSION);
  r.onupgradeneeded = () => {
    const d = r.result;
    d.createObjectStore("meta");
    d.createObjectStore("grids", { keyPath: "code" });
    d.createObjectStore("buildings", { keyPath: "code" });
    d.createObjectStore("households", { keyPath: "id" });
    d.createObjectStore("cases", { keyPath: "id" });
    d.createObjectStore("visits", { keyPath: "key" });
    d.createObjectStore("queue", { keyPath: "n", autoIncrement: true });
    d.createObjectStore("conflicts", { keyPath: "n", autoIncrement: true });
  };
  db = await req(r);
  return db;
}

function tx(stores, mode = "readonly") {
  return db.transaction(stores, mode);
}

function done(t) {
  return new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error("transaction aborted"));
  });
}

/** Every record of a store. */
export async function all(store) {
  return req(tx([store]).objectStore(store).getAll());
}

/** One record. */
export async function get(store, key) {
  return req(tx([store]).objectStore(store).get(key));
}

/** Writes records (and deletes keys) in one transaction. */
export async function write(changes) {
  const stores = [...new Set(changes.map((c) => c.store))];
  if (!stores.length) return;
  const t = tx(stores, "readwrite");
  for (const c of changes) {
    const s = t.objectStore(c.store);
    if (c.delete !== undefined) s.delete(c.delete);
    else if (c.key !== undefined) s.put(c.value, c.key);
    else s.put(c.value);
  }
  await done(t);
}

/** Appends a change to the queue; its number. */
export async function enqueue(item) {
  const t = tx(["queue"], "readwrite");
  const n = req(t.objectStore("queue").add({ ...item, queued_at: new Date().toISOString() }));
  await done(t);
  return n;
}

/** Empties stores. */
export async function clear(stores) {
  const t = tx(stores, "readwrite");
  for (const s of stores) t.objectStore(s).clear();
  await done(t);
}

/** Wipes the slice (and, with `everything`, the queue and conflicts) and the kept tiles. */
export async function wipe(everything = false) {
  await clear(everything ? [...SLICE_STORES, "queue", "conflicts"] : SLICE_STORES);
  try {
    await caches.delete(TILES);
    await caches.delete(PHOTOS);
  } catch { /* no Cache API: nothing kept */ }
}
