// The grid staff's handheld (/m/) on a 390×844 touch screen, on both
// storage backends: sign in, download the slice, work offline across a
// reload, a closed page and a restarted browser, then sync — the service
// has every change with its visit records and audit lines, a conflicting
// edit made on the web meanwhile is shown with both versions until
// resolved, and a second sync is a delta.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startServer, launchBrowser, backends, root } from "./util.mjs";
import { checkResidentId, checkHousehold } from "../m-check.js";

const STAFF = { name: "wang_m", password: "handheld-pass-2026" };

/** A grid with households and an open case, a staff member for it, and that case dispatched to them. */
async function fixture(server) {
  const hs = (await (await server.api("/households?limit=10000")).json()).households;
  const byGrid = new Map();
  for (const h of hs) if (h.grid) byGrid.set(h.grid, (byGrid.get(h.grid) || 0) + 1);
  let grid = null, kase = null;
  for (const [g] of [...byGrid].sort((a, b) => b[1] - a[1])) {
    const cs = (await (await server.api(`/incidents?grid=${encodeURIComponent(g)}&status=reported&limit=5`)).json()).cases;
    if (cs.length) { grid = g; kase = cs[0]; break; }
  }
  assert.ok(grid, "a grid with households and a reported case");
  const post = (path, body, headers = {}) => server.api(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const u = await post("/users", { name: STAFF.name, password: STAFF.password, role: "grid_staff", grids: [grid] });
  assert.equal(u.status, 201, await u.text());
  // The case is accepted and dispatched to the staff member by the desk.
  let r = await post(`/incidents/${kase.id}/steps`, { action: "accept", note: "受理" });
  assert.equal(r.status, 201, await r.text());
  r = await post(`/incidents/${kase.id}/steps`, { action: "dispatch", to: { kind: "person", name: STAFF.name } });
  assert.equal(r.status, 201, await r.text());
  // A picture to take: a plan-map tile (a real PNG the service drew).
  const b = (await (await server.api("/collections/buildings/items?limit=1")).json()).features[0];
  const [lon, lat] = b.geometry.type === "MultiPolygon" ? b.geometry.coordinates[0][0][0] : b.geometry.coordinates[0][0];
  const z = 16, n = 2 ** z, s = Math.sin((lat * Math.PI) / 180);
  const x = Math.floor(((lon + 180) / 360) * n), y = Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n);
  const png = await server.api(`/tiles/plan/${z}/${x}/${y}.png`);
  assert.equal(png.headers.get("content-type"), "image/png");
  const tile = Buffer.from(await png.arrayBuffer());
  return { grid, caseId: kase.id, photo: { name: "photo.png", mimeType: "image/png", buffer: tile } };
}

/** Waits for the notice to say `text` (a part of it). */
async function noticeSays(page, text) {
  await page.waitForFunction((s) => document.getElementById("notice").textContent.includes(s), text);
}

async function openApp(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${url}/m/`, { waitUntil: "load" });
  await page.evaluate(() => window.gridgovM.ready);
  return { page, errors };
}

const queued = (page) => page.evaluate(async () => {
  const db = await new Promise((res, rej) => { const r = indexedDB.open("gridgov-m"); r.onsuccess = () => res(r.result); r.onerror = rej; });
  const all = (s) => new Promise((res) => { const r = db.transaction(s).objectStore(s).getAll(); r.onsuccess = () => res(r.result); });
  const out = { queue: (await all("queue")).map((q) => q.kind), households: (await all("households")).length, conflicts: (await all("conflicts")).length };
  db.close();
  return out;
});

test("the phone checks ID numbers with the service's rules", () => {
  // The same file the service's own test reads (service/src/web.rs).
  const cases = JSON.parse(readFileSync(join(root, "web", "test", "id-numbers.json"), "utf8"));
  const kind = { null: "ok", "m.check.id.length": "length", "m.check.id.chars": "chars", "m.check.id.birth": "birth", "m.check.id.check": "check" };
  for (const [number, want] of cases) {
    const e = checkResidentId(number);
    assert.equal(kind[e ? e.key : null], want, number);
  }
  assert.deepEqual(checkHousehold({ room: "301", headcount: 2, head_name: "张三", phone: "138 0000-0000", id_number: "11010519491231002X" }), []);
  const bad = checkHousehold({ room: "3".repeat(33), headcount: -1, head_name: null, phone: "电话", id_number: "370402199001011234" });
  assert.deepEqual(bad.map((p) => p.field), ["room", "phone", "headcount", "id_number"]);
});

for (const backend of backends()) {
  test(`grid staff work a day offline on the phone and sync it on ${backend}`, { timeout: 300_000 }, async () => {
    const server = await startServer({ backend });
    const browser = await launchBrowser({ phone: true });
    let restarted = null;
    try {
      const f = await fixture(server);
      const { context } = browser;
      const { page, errors } = await openApp(context, server.url);

      // Sign in: the slice comes down and the buildings of my grid are listed.
      assert.equal(await page.isVisible("#login"), true, "the phone asks to sign in");
      assert.equal(await page.textContent("#tabs [data-tab=households]"), "住户");
      await page.fill("#login-name", STAFF.name);
      await page.fill("#login-password", STAFF.password);
      await page.click("#login button[type=submit]");
      await noticeSays(page, "已同步");
      const slice = await page.evaluate(() => window.gridgovM.data.meta);
      assert.equal(slice.user, STAFF.name);
      assert.equal(slice.last.kind, "full");
      assert.match(await page.textContent("#my-grids"), new RegExp(f.grid));
      const nBuildings = await page.locator("#buildings li").count();
      assert.ok(nBuildings > 0, "my grid's buildings are listed");
      // The service worker controls the page, so it opens with no network.
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
      const fullBytes = slice.last.bytes;

      // Offline from here: a reload still shows my grid.
      await context.setOffline(true);
      await page.reload({ waitUntil: "load" });
      await page.evaluate(() => window.gridgovM.ready);
      // The phone finds it cannot reach the service and says so.
      await page.waitForFunction(() => document.getElementById("net").textContent === "离线");
      assert.equal(await page.locator("#buildings li").count(), nBuildings);

      // A household visit: find it by its building, unit and room.
      await page.tap("#buildings li >> nth=0");
      await page.tap("#units li >> nth=0");
      const hid = Number(await page.getAttribute("#households li >> nth=0", "data-id"));
      await page.tap("#households li >> nth=0");
      const before = await page.evaluate((id) => window.gridgovM.data.households.find((h) => h.id === id), hid);
      await page.tap("#visit");
      await page.fill("#visit-form [name=phone]", "139-0000-1234");
      // A mistyped ID number is refused on the phone, with the reason.
      await page.fill("#visit-form [name=id_number]", "370402199001011234");
      await page.click("#visit-form button[type=submit]");
      assert.match(await page.textContent("[data-error=id_number]"), /校验码应为 8/);
      await page.fill("#visit-form [name=id_number]", "370402199001011238");
      await page.fill("#visit-form [name=note]", "入户核实，电话已更新");
      await page.setInputFiles("#visit-form [name=photo]", f.photo);
      await page.click("#visit-form button[type=submit]");
      await noticeSays(page, "走访已保存在本机");
      assert.equal(await page.textContent("[data-field=phone]"), "139-0000-1234");
      assert.equal(await page.locator("#household-card > .badge.pending").count(), 1);
      assert.match(await page.textContent("#visits"), /入户核实，电话已更新/);

      // A new case at my position (WGS 84 from the browser).
      const b0 = await page.evaluate(() => window.gridgovM.data.buildings[0].location);
      await context.grantPermissions(["geolocation"]);
      await context.setGeolocation({ longitude: b0[0], latitude: b0[1] });
      await page.tap("#tabs [data-tab=report]");
      // The plan map of my grid is drawn from the tiles kept on the phone.
      await page.waitForFunction(() => {
        const ts = [...document.querySelectorAll("#map img.tile")];
        return ts.length > 0 && ts.every((i) => i.complete) && ts.some((i) => i.naturalWidth === 256);
      });
      assert.ok(await page.locator("#map polygon").count() >= 1, "my grid's outline on the map");
      await page.tap("#gps");
      await page.waitForFunction(() => document.getElementById("where").textContent.includes("WGS 84"));
      await page.selectOption("#category", "environment");
      await page.fill("#description", "楼道堆放杂物，堵塞通道");
      await page.setInputFiles("#report-form [name=photos]", f.photo);
      await page.click("#report-form button[type=submit]");
      await noticeSays(page, "联网后自动上报");
      assert.match(await page.textContent("#filed"), /楼道堆放杂物/);

      // A step on the case dispatched to me: handled, with a note and a photo.
      await page.tap(`#cases li[data-id="${f.caseId}"]`);
      assert.equal(await page.textContent("#case-status"), "已派遣");
      await page.fill("#step-form [name=note]", "已清理完毕");
      await page.setInputFiles("#step-form [name=photo]", f.photo);
      await page.click("#step-form [data-action=handle]");
      await page.waitForSelector("#history .pending-step");

      // The page is closed and opened again, offline: the queue is still there.
      await page.close();
      let again = await openApp(context, server.url);
      assert.deepEqual((await queued(again.page)).queue, ["household", "visit", "file", "step"]);
      await again.page.close();

      // The browser is restarted, still offline: the queue survives that too.
      await browser.close({ keep: true });
      restarted = await launchBrowser({ phone: true, userDataDir: browser.userDataDir });
      await restarted.context.setOffline(true);
      again = await openApp(restarted.context, server.url);
      assert.deepEqual((await queued(again.page)).queue, ["household", "visit", "file", "step"]);
      await again.page.tap("#tabs [data-tab=sync]");
      assert.equal(await again.page.locator("#queue li").count(), 4);

      // Meanwhile the same household is changed on the web.
      const web = await server.api(`/households/${hid}`, {
        method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ head_name: "李四", phone: "010-1234" }),
      });
      assert.equal(web.status, 200, await web.text());

      // Online again: the queue goes out; the household is a conflict.
      await restarted.context.setOffline(false);
      await again.page.tap("#sync");
      await noticeSays(again.page, "需要您处理");
      const after = await queued(again.page);
      assert.deepEqual(after.queue, []);
      assert.equal(after.conflicts, 1);
      const conflict = again.page.locator("#conflicts li.conflict");
      assert.equal(await conflict.count(), 1);
      assert.equal(await conflict.locator("[data-mine=phone]").textContent(), "139-0000-1234");
      assert.equal(await conflict.locator("[data-theirs=phone]").textContent(), "010-1234");

      // The service has the visit (with its photo), the new case, the step and the audit lines.
      const visits = (await (await server.api(`/households/${hid}/visits`)).json()).visits;
      const v = visits.find((x) => x.note === "入户核实，电话已更新");
      assert.ok(v, "the visit was recorded");
      assert.equal(v.by, STAFF.name);
      assert.ok(v.photo, "with its photo");
      const photo = await server.api(`/photos/${v.photo}`);
      assert.equal(photo.status, 200);
      assert.equal(photo.headers.get("content-type"), "image/jpeg");
      const cases = (await (await server.api("/incidents?newest=true&limit=5")).json()).cases;
      const filed = cases.find((c) => Math.abs(c.location[0] - b0[0]) < 1e-6 && Math.abs(c.location[1] - b0[1]) < 1e-6);
      assert.ok(filed, "the case filed on the phone is there, at my position");
      assert.equal(filed.grid, f.grid);
      const handled = await (await server.api(`/incidents/${f.caseId}`)).json();
      assert.equal(handled.state.status, "handled");
      const step = handled.history.at(-1);
      assert.equal(step.actor, STAFF.name);
      assert.equal(step.note, "已清理完毕");
      assert.equal(step.photos.length, 1);
      const audit = await (await server.api(`/audit?user=${STAFF.name}&limit=1000`)).json();
      const lines = JSON.stringify(audit);
      assert.match(lines, /\/m\/slice/, "the slice's personal data read is audited");
      assert.match(lines, new RegExp(`/households/${hid}/visits`), "the visit write is audited");
      // Both versions are kept until resolved: the web's stands on the service.
      let h = await (await server.api(`/households/${hid}`)).json();
      assert.equal(h.phone, "010-1234");
      assert.equal(h.head_name, "李四");

      // Keep mine: sent again on the web's version; the web's other change stays.
      await conflict.locator("[data-resolve=mine]").tap();
      await noticeSays(again.page, "已同步");
      h = await (await server.api(`/households/${hid}`)).json();
      assert.equal(h.phone, "139-0000-1234");
      assert.equal(h.id_number, "370402199001011238");
      assert.equal(h.head_name, "李四");
      assert.notEqual(before.phone, h.phone);
      assert.equal((await queued(again.page)).conflicts, 0);

      // A second sync is a delta: only what changed comes down.
      await again.page.tap("#sync");
      await noticeSays(again.page, "已同步");
      const last = await again.page.evaluate(() => window.gridgovM.data.meta.last);
      assert.equal(last.kind, "delta");
      assert.ok(last.bytes * 10 < fullBytes, `a delta of ${last.bytes} bytes against a slice of ${fullBytes}`);
      await again.page.tap("#tabs [data-tab=sync]");
      assert.match(await again.page.textContent("#last-sync"), /增量同步/);

      // The account is disabled: at the next contact the phone wipes the slice.
      const dis = await server.api(`/users/${STAFF.name}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ disabled: true }) });
      assert.equal(dis.status, 200, await dis.text());
      await again.page.tap("#sync");
      await noticeSays(again.page, "本机的网格资料已清除");
      assert.equal((await queued(again.page)).households, 0);
      assert.equal(await again.page.isVisible("#login"), true);
      assert.deepEqual(again.errors, []);
      assert.deepEqual(errors, []);
    } finally {
      if (restarted) await restarted.close();
      else await browser.close();
      await server.stop();
    }
  });
}

test("a slice kept offline longer than allowed is wiped from the phone, and signing out wipes it too", { timeout: 180_000 }, async () => {
  const server = await startServer({ args: ["--slice-hours", "1"] });
  const browser = await launchBrowser({ phone: true });
  try {
    await fixture(server);
    const { page } = await openApp(browser.context, server.url);
    await page.fill("#login-name", STAFF.name);
    await page.fill("#login-password", STAFF.password);
    await page.click("#login button[type=submit]");
    await noticeSays(page, "已同步");
    assert.equal((await page.evaluate(() => window.gridgovM.data.meta)).expires_after_s, 3600);
    assert.ok((await queued(page)).households > 0);
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    // Two hours without reaching the service.
    await browser.context.setOffline(true);
    await page.evaluate(() => new Promise((res) => {
      const r = indexedDB.open("gridgov-m");
      r.onsuccess = () => {
        const tx = r.result.transaction("meta", "readwrite");
        const s = tx.objectStore("meta");
        const g = s.get("slice");
        g.onsuccess = () => { s.put({ ...g.result, last_contact: new Date(Date.now() - 2 * 3600 * 1000).toISOString() }, "slice"); };
        tx.oncomplete = () => { r.result.close(); res(); };
      };
    }));
    await page.reload({ waitUntil: "load" });
    await page.evaluate(() => window.gridgovM.ready);
    await noticeSays(page, "网格资料已从本机清除");
    assert.equal((await queued(page)).households, 0);

    // Online, signed in again, then signed out: nothing is left on the phone.
    await browser.context.setOffline(false);
    await page.reload({ waitUntil: "load" });
    await page.evaluate(() => window.gridgovM.ready);
    await noticeSays(page, "已同步");
    assert.ok((await queued(page)).households > 0);
    await page.tap("#tabs [data-tab=sync]");
    await page.tap("#sign-out");
    await noticeSays(page, "已退出登录");
    assert.deepEqual(await queued(page), { queue: [], households: 0, conflicts: 0 });
    // The kept tiles and photos go too; only the app's own files stay.
    assert.deepEqual(await page.evaluate(() => caches.keys()), ["gridgov-m-shell"]);
    assert.equal(await page.isVisible("#login"), true);
    assert.equal((await (await fetch(`${server.url}/me`)).json()).signed_in, false);
  } finally {
    await browser.close();
    await server.stop();
  }
});
