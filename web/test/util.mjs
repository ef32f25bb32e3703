// Shared fixtures for the browser tests: a gridgov server on a fresh copy
// of the sample district, and headless Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Starts `gridgov serve` on a free port over a new GeoPackage made from the sample. */
export async function startServer() {
  const bin = process.env.GRIDGOV_BIN || join(root, "target", "debug", "gridgov");
  if (!existsSync(bin)) throw new Error(`no gridgov binary at ${bin}: run cargo build first or set GRIDGOV_BIN`);
  const dir = mkdtempSync(join(tmpdir(), "gridgov-web-"));
  const child = spawn(bin, [
    "serve",
    "--addr", "127.0.0.1:0",
    "--db", join(dir, "web.gpkg"),
    "--seed", join(root, "data", "sample-district.json"),
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

/** Headless Chromium with the flags that keep it off the network. */
export async function launchBrowser() {
  const userDataDir = mkdtempSync(join(tmpdir(), "gridgov-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1024, height: 700 },
    deviceScaleFactor: 1,
    args: [
      "--no-sandbox", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic",
      "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
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
