// Shared fixtures for the browser tests: a gridgov server on a fresh copy
// of the sample district, and headless Chromium driven by playwright-core.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, mkdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The storage backends a browser test runs on: the GeoPackage always,
 * PostGIS when GRIDGOV_TEST_PG names a cluster (under CI=true it must).
 */
export function backends() {
  if (process.env.GRIDGOV_TEST_PG) return ["gpkg", "postgis"];
  if (process.env.CI === "true") throw new Error("GRIDGOV_TEST_PG is not set: the PostGIS browser tests cannot run (CI must run them)");
  return ["gpkg"];
}

let databases = 0;

/** A new PostGIS database on the test cluster; its URL. */
function freshDatabase() {
  const cluster = process.env.GRIDGOV_TEST_PG;
  const name = `gridgov_web_${process.pid}_${++databases}`;
  const psql = (url, sql) => {
    const r = spawnSync("psql", ["-v", "ON_ERROR_STOP=1", "-q", url, "-c", sql], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`psql ${sql}: ${r.stderr || r.error}`);
  };
  psql(`${cluster}/postgres`, `DROP DATABASE IF EXISTS ${name}`);
  psql(`${cluster}/postgres`, `CREATE DATABASE ${name}`);
  psql(`${cluster}/${name}`, "CREATE EXTENSION IF NOT EXISTS postgis");
  return `${cluster}/${name}`;
}

/** Starts `gridgov serve` on a free port over a new store (a GeoPackage, or PostGIS) made from the sample. */
export async function startServer({ backend = "gpkg", args = [] } = {}) {
  const bin = process.env.GRIDGOV_BIN || join(root, "target", "debug", "gridgov");
  if (!existsSync(bin)) throw new Error(`no gridgov binary at ${bin}: run cargo build first or set GRIDGOV_BIN`);
  const dir = mkdtempSync(join(tmpdir(), "gridgov-web-"));
  const db = backend === "postgis" ? freshDatabase() : join(dir, "web.gpkg");
  const child = spawn(bin, [
    "serve",
    "--addr", "127.0.0.1:0",
    "--db", db,
    "--seed", join(root, "data", "sample-district.json"),
    ...args,
  ], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn,gridgov=info" } });
  // The first start makes user "admin" and prints its password, once.
  let out = "";
  const admin = new Promise((resolve) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = /created user "admin" with password (\S+)/.exec(out);
      if (m) resolve({ name: "admin", password: m[1] });
    });
  });
  let log = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 120_000);
    child.stderr.on("data", (d) => {
      log += d;
      const m = /serving addr=([\d.]+:\d+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(`http://${m[1]}`); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${log}`)); });
  });
  const credentials = await admin;
  signIns.set(url, credentials);
  // A token for the tests' own calls to the API.
  const login = await fetch(`${url}/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(credentials),
  });
  if (!login.ok) throw new Error(`cannot sign in: ${login.status} ${await login.text()}`);
  const { token } = await login.json();
  return {
    url,
    credentials,
    /** fetch, signed in as the admin. */
    api: (path, init = {}) => fetch(`${url}${path}`, { ...init, headers: { ...(init.headers || {}), authorization: `Bearer ${token}` } }),
    log: () => log,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Headless Chromium with the flags that keep it off the network, in
 * `locale`. With `userDataDir` it starts on that profile (a browser
 * restarted on the same phone) and `close({ keep: true })` leaves it.
 * `phone` gives a 390×844 touch screen.
 */
export async function launchBrowser({ locale = "zh-CN", userDataDir, phone = false } = {}) {
  userDataDir ??= mkdtempSync(join(tmpdir(), "gridgov-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // The users are Chinese street offices: the browser asks for zh-CN
    // (Accept-Language) unless a test says otherwise.
    locale,
    viewport: phone ? { width: 390, height: 844 } : { width: 1024, height: 700 },
    ...(phone ? { hasTouch: true, isMobile: true } : {}),
    deviceScaleFactor: 1,
    args: [
      "--no-sandbox", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic",
      "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    ],
  });
  return {
    context,
    userDataDir,
    async close({ keep = false } = {}) {
      await context.close();
      if (!keep) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** The admin of each server started, by URL. */
const signIns = new Map();

/** Signs in through the page's form when it asks. */
export async function signInIfAsked(page, url, credentials) {
  const c = credentials ?? signIns.get(new URL(url).origin);
  const asked = await page.waitForFunction(() => {
    const f = document.getElementById("login");
    return (f && !f.hidden) || document.getElementById("who")?.textContent ? true : null;
  }).then(() => page.evaluate(() => !document.getElementById("login").hidden));
  if (!asked) return;
  await page.fill("#login-name", c.name);
  await page.fill("#login-password", c.password);
  await page.click("#login button[type=submit]");
}

/** Opens the map and waits until its first view is drawn; collects console errors. */
export async function openMap(context, url, viewport) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("requestfailed", (r) => {
    // The map cancels the tiles it no longer needs when it moves.
    if (r.failure()?.errorText !== "net::ERR_ABORTED") errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  await page.goto(url, { waitUntil: "load" });
  await signInIfAsked(page, url);
  await page.evaluate(() => window.gridgov.ready);
  await idle(page);
  return { page, errors };
}

/** Waits until the map has loaded every tile it shows. */
export async function idle(page) {
  await page.evaluate(() => new Promise((resolve) => {
    const m = window.gridgov.map;
    if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) {
      // One more frame so that a just-finished change is on the canvas.
      m.once("idle", resolve);
      m.triggerRepaint();
    } else {
      m.once("idle", resolve);
    }
  }));
}

/** Compares two PNG data URLs in the page: the share of pixels that differ by more than `tol` in any channel. */
export async function compare(page, a, b, tol = 40) {
  return page.evaluate(async ([a, b, tol]) => {
    const load = (src) => new Promise((res, rej) => { const i = new Image(); i.onload = () => res(i); i.onerror = rej; i.src = src; });
    const [ia, ib] = await Promise.all([load(a), load(b)]);
    if (ia.width !== ib.width || ia.height !== ib.height) return { sizeMismatch: [ia.width, ia.height, ib.width, ib.height] };
    const px = (img) => {
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      return g.getImageData(0, 0, img.width, img.height).data;
    };
    const pa = px(ia), pb = px(ib);
    let bad = 0;
    for (let i = 0; i < pa.length; i += 4) {
      if (Math.abs(pa[i] - pb[i]) > tol || Math.abs(pa[i + 1] - pb[i + 1]) > tol || Math.abs(pa[i + 2] - pb[i + 2]) > tol) bad++;
    }
    return { differing: bad / (pa.length / 4) };
  }, [a, b, tol]);
}

/** Vertices shared by exactly two grids of one community, with the grids on both sides of the edges next to them. */
export async function sharedVertices(server) {
  const fc = await (await server.api("/collections/grids/items?limit=1000")).json();
  const key = (c) => `${c[0].toFixed(7)},${c[1].toFixed(7)}`;
  const rings = [];
  for (const f of fc.features) {
    const polys = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [f.geometry.coordinates];
    for (const p of polys) rings.push({ code: f.id, community: f.properties.parent_code, ring: p[0] });
  }
  const owners = new Map();
  for (const r of rings) for (const c of r.ring.slice(0, -1)) {
    const k = key(c);
    if (!owners.has(k)) owners.set(k, new Set());
    owners.get(k).add(r.code);
  }
  const out = [];
  for (const r of rings) {
    const n = r.ring.length - 1;
    for (let i = 0; i < n; i++) {
      const c = r.ring[i];
      const own = owners.get(key(c));
      if (own.size !== 2) continue;
      const prev = owners.get(key(r.ring[(i + n - 1) % n]));
      const next = owners.get(key(r.ring[(i + 1) % n]));
      const other = [...own].find((o) => o !== r.code);
      const otherRing = rings.find((x) => x.code === other);
      if (!otherRing || otherRing.community !== r.community) continue;
      if (prev.size >= 2 && next.size >= 2 && prev.has(other) && next.has(other)) {
        out.push({ code: r.code, other, at: c, prev: r.ring[(i + n - 1) % n], next: r.ring[(i + 1) % n] });
      }
    }
  }
  return out;
}


/**
 * Compares a screenshot (PNG bytes) with `golden/NAME.png`, allowing
 * `maxDiff` of the pixels to differ: written when missing or with
 * GRIDGOV_BLESS=1 (and then a failure under CI, so a missing golden is
 * never passed quietly).
 */
export async function matchesGolden(page, name, png, maxDiff = 0.03) {
  const dir = join(root, "web", "test", "golden");
  const file = join(dir, `${name}.png`);
  if (process.env.GRIDGOV_BLESS === "1" || !existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, png);
    if (process.env.CI === "true") throw new Error(`the golden image ${name}.png was missing; it has been written, commit it`);
  }
  const url = (b) => `data:image/png;base64,${Buffer.from(b).toString("base64")}`;
  const diff = await compare(page, url(png), url(readFileSync(file)));
  if (diff.sizeMismatch) throw new Error(`${name}: size differs from the golden: ${diff.sizeMismatch}`);
  if (diff.differing > maxDiff) throw new Error(`${name}: ${(diff.differing * 100).toFixed(2)}% of pixels differ from the golden (at most ${maxDiff * 100}%)`);
  return diff.differing;
}
