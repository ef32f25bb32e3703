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
  ], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, RUST_LOG: "warn,gridgov=info" } });
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
  return {
    url,
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
