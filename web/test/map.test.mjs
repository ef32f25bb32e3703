// End-to-end tests of the web map in headless Chromium: the page loads
// clean, the map is drawn, search finds the right grid, a click shows the
// info card, and a planner's boundary edit round-trips to the tiles.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { startServer, launchBrowser, openMap, idle, root, compare, sharedVertices } from "./util.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const golden = join(root, "web", "test", "golden", "map.png");

/** Colour statistics of the map canvas: how many distinct colours, and the share that is not background. */
async function canvasStats(page) {
  return page.evaluate(() => {
    const src = window.gridgov.map.getCanvas();
    const c = document.createElement("canvas");
    c.width = src.width; c.height = src.height;
    const g = c.getContext("2d");
    g.drawImage(src, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let drawn = 0;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      // #eef0f2 is the background.
      if (Math.abs(d[i] - 0xee) + Math.abs(d[i + 1] - 0xf0) + Math.abs(d[i + 2] - 0xf2) > 12) drawn++;
    }
    return { colours: colours.size, drawn: drawn / (d.length / 4) };
  });
}

test("the page loads with no console errors and the map canvas shows the district", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  assert.deepEqual(errors, []);
  assert.match(await page.title(), /gridgov/);
  const stats = await canvasStats(page);
  assert.ok(stats.colours > 100, `only ${stats.colours} colours on the canvas`);
  assert.ok(stats.drawn > 0.5, `only ${(stats.drawn * 100).toFixed(1)}% of the canvas is drawn`);
  const shot = await page.evaluate(() => window.gridgov.map.getCanvas().toDataURL("image/png"));
  if (process.env.GRIDGOV_BLESS === "1" || !existsSync(golden)) {
    mkdirSync(join(root, "web", "test", "golden"), { recursive: true });
    writeFileSync(golden, Buffer.from(shot.split(",")[1], "base64"));
    if (process.env.CI === "true") assert.fail("the golden image was missing; it has been written, commit it");
  }
  const ref = `data:image/png;base64,${readFileSync(golden).toString("base64")}`;
  const diff = await compare(page, shot, ref);
  assert.equal(diff.sizeMismatch, undefined, `size differs: ${diff.sizeMismatch}`);
  assert.ok(diff.differing < 0.02, `${(diff.differing * 100).toFixed(2)}% of pixels differ from the golden map`);
  await page.close();
});

test("the landing page is JSON for API clients and the map for browsers", async () => {
  const json = await fetch(server.url + "/", { headers: { accept: "application/json" } });
  assert.equal(json.headers.get("content-type"), "application/json");
  assert.ok((await json.json()).links.length > 0);
  const html = await fetch(server.url + "/", { headers: { accept: "text/html" } });
  assert.match(html.headers.get("content-type"), /text\/html/);
  assert.match(await html.text(), /maplibre-gl/);
});

test("an address search flies to the building and highlights its grid", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  await page.fill("#q", "振兴街24号1号楼");
  await page.press("#q", "Enter");
  await page.waitForSelector("#card:not([hidden])");
  await page.waitForFunction(() => document.getElementById("card-body").dataset.grid === "370402005001001");
  assert.match(await page.textContent("#card"), /辛庄第1网格/);
  const filter = await page.evaluate(() => window.gridgov.map.getFilter("grid-highlight"));
  assert.deepEqual(filter, ["==", ["get", "code"], "370402005001001"]);
  await idle(page);
  const zoom = await page.evaluate(() => window.gridgov.map.getZoom());
  assert.ok(zoom > 16, `zoom ${zoom} after flying to a building`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a coordinate search, typed latitude first, finds the grid of the point", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  await page.fill("#q", "34.86, 117.55");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => document.getElementById("card-body").dataset.grid === "370402005013001");
  assert.match(await page.textContent("#card"), /公胜街第1网格/);
  assert.match(await page.textContent("#card"), /网格长/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("clicking a grid on a phone-sized screen opens its info card with counts", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/", { width: 390, height: 844 });
  assert.equal(await page.isVisible("#panel"), false, "the panel starts folded on a phone");
  await page.evaluate(() => window.gridgov.map.jumpTo({ center: [117.55, 34.86], zoom: 17 }));
  await idle(page);
  const box = await page.locator("#map canvas").boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => document.getElementById("card-body").dataset.grid === "370402005013001");
  const text = await page.textContent("#card");
  assert.match(text, /户数/);
  assert.match(text, /未结事件/);
  assert.deepEqual(errors, []);
  await page.close();
});

test("on a 390 px phone GCJ-02 coordinates land in their grid, the choice is kept, the place is pinned and sign-out fits", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/", { width: 390, height: 844 });
  assert.equal(await page.isVisible("#crs"), true, "the coordinate system can be chosen on a phone");
  for (const width of [390, 360]) {
    await page.setViewportSize({ width, height: 844 });
    const out = await page.locator("#logout").boundingBox();
    assert.ok(out && out.x >= 0 && out.x + out.width <= width && out.height < 40, `sign-out at ${JSON.stringify(out)} on ${width} px`);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  // A point whose GCJ-02 reading and WGS 84 reading fall in different grids.
  const pick = await page.evaluate(async () => {
    for (let i = 0; i < 400; i++) {
      const lon = 117.53 + (i % 20) * 0.002, lat = 34.85 + Math.floor(i / 20) * 0.001;
      const q = (crs) => fetch(`/lookup?lon=${lon}&lat=${lat}&crs=${crs}`).then((r) => r.json());
      const [g, w] = await Promise.all([q("gcj02"), q("wgs84")]);
      const [a, b] = [g.chain[0]?.code, w.chain[0]?.code];
      if (a && b && a !== b) return { lon: lon.toFixed(4), lat: lat.toFixed(4), gcj: a, wgs: b };
    }
    return null;
  });
  assert.ok(pick, "the sample has such a point");
  await page.selectOption("#crs", "gcj02");
  await page.fill("#q", `${pick.lon},${pick.lat}`);
  await page.press("#q", "Enter");
  await page.waitForFunction((g) => document.getElementById("card-body").dataset.grid === g, pick.gcj);
  await page.waitForSelector("#search-pin");
  // The choice stays after a reload.
  await page.reload({ waitUntil: "load" });
  await page.evaluate(() => window.gridgov.ready);
  assert.equal(await page.inputValue("#crs"), "gcj02");
  // Back to WGS 84: the same numbers are another place, another grid.
  await page.selectOption("#crs", "wgs84");
  await page.fill("#q", `${pick.lon},${pick.lat}`);
  await page.press("#q", "Enter");
  await page.waitForFunction((g) => document.getElementById("card-body").dataset.grid === g, pick.wgs);
  // Numbers in China that land elsewhere read as GCJ-02: the card offers
  // that reading, and taking it lands in the other grid and keeps GCJ-02.
  await page.waitForSelector("#gcj-hint");
  assert.match(await page.textContent("#gcj-hint"), /GCJ-02/);
  await page.click("#gcj-use");
  await page.waitForFunction((g) => document.getElementById("card-body").dataset.grid === g, pick.gcj);
  assert.equal(await page.inputValue("#crs"), "gcj02");
  assert.deepEqual(errors, []);
  await page.close();
});

test("tapping inside a building opens the building, not the grid around it", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  await page.fill("#q", "振兴街24号1号楼");
  await page.press("#q", "Enter");
  await page.waitForFunction(() => document.getElementById("card-body").dataset.grid === "370402005001001");
  await idle(page);
  await page.click("#card-close");
  // The map is centred on the building's box, where the pin is: tap
  // just beside the pin, still inside the building.
  assert.ok(await page.isVisible("#search-pin"), "the building is pinned");
  const pin = await page.evaluate(() => {
    const m = window.gridgov.map;
    const p = m.project(m.getCenter());
    return { x: p.x, y: p.y };
  });
  const box = await page.locator("#map canvas").boundingBox();
  await page.mouse.click(box.x + pin.x, box.y + pin.y + 4);
  await page.waitForSelector("#card:not([hidden])");
  const title = await page.textContent("#card h3");
  assert.equal(title, "振兴街24号1号楼");
  // The building level of the chain: the building and its leader, as the
  // address lookup names them.
  const known = (await (await server.api(`/lookup?address=${encodeURIComponent("振兴街24号1号楼")}`)).json()).candidates[0];
  const leader = known.leaders[0];
  assert.ok(leader?.name, "the sample's building has a leader");
  const rows = await page.$$eval("#card table.leaders tr", (trs) => trs.map((tr) => tr.textContent));
  assert.equal(rows[0], "楼栋振兴街24号1号楼");
  assert.ok(rows[1].startsWith(`楼栋长${leader.name} ${leader.phone}`), `leader row: ${rows[1]}`);
  assert.equal(rows[1].includes("党员"), Boolean(leader.party_member));
  // An admin may print the grid's signs and cards from the card: the
  // links give PDFs.
  const href = await page.getAttribute("#card a.print-sign", "href");
  assert.equal(href, "/cards?grid=370402005001001&kind=sign");
  assert.equal(await page.getAttribute("#card a.print-card", "href"), "/cards?grid=370402005001001&kind=card");
  const got = await page.evaluate(async (u) => {
    const r = await fetch(u);
    const b = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, type: r.headers.get("content-type"), head: String.fromCharCode(...b.slice(0, 5)) };
  }, href);
  assert.deepEqual(got, { status: 200, type: "application/pdf", head: "%PDF-" });
  assert.deepEqual(errors, []);
  await page.close();
});

test("the roads layer shows the sample's streets and clicking one names it", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  assert.equal(await page.isChecked("#layer-roads"), false, "off at first");
  await page.check("#layer-roads");
  assert.equal(await page.evaluate(() => window.gridgov.map.getLayoutProperty("roads-line", "visibility")), "visible");
  await page.evaluate(() => window.gridgov.map.jumpTo({ center: [117.55, 34.86], zoom: 15 }));
  await idle(page);
  const names = await page.evaluate(() =>
    [...new Set(window.gridgov.map.queryRenderedFeatures({ layers: ["roads-line"] }).map((f) => f.properties.name))].sort());
  assert.ok(names.includes("龙山路") && names.includes("青檀路"), `roads drawn: ${names}`);
  // Click exactly on a drawn road: the card is titled with its name.
  // Shops and cameras line the main roads and take clicks first: hide them.
  await page.uncheck("#layer-merchants");
  await page.uncheck("#layer-cameras");
  await idle(page);
  // (The vertex of 龙山路 nearest the middle of the map, clear of the panel.)
  const p = await page.evaluate(() => {
    const m = window.gridgov.map;
    const c = m.getCanvas();
    const mid = { x: c.clientWidth / 2, y: c.clientHeight / 2 };
    const pts = m.queryRenderedFeatures({ layers: ["roads-line"] })
      .filter((f) => f.properties.name === "龙山路")
      .flatMap((f) => (f.geometry.type === "LineString" ? f.geometry.coordinates : f.geometry.coordinates.flat()))
      .map((ll) => m.project(ll));
    pts.sort((a, b) => Math.hypot(a.x - mid.x, a.y - mid.y) - Math.hypot(b.x - mid.x, b.y - mid.y));
    return { x: pts[0].x, y: pts[0].y };
  });
  const box = await page.locator("#map canvas").boundingBox();
  await page.mouse.click(box.x + p.x, box.y + p.y);
  await page.waitForSelector("#card:not([hidden])");
  assert.match(await page.textContent("#card"), /龙山路 · 主干路/);
  await page.uncheck("#layer-roads");
  assert.equal(await page.evaluate(() => window.gridgov.map.getLayoutProperty("roads-line", "visibility")), "none");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the heatmap follows the category filter and its legend shows real values", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  const before = await page.textContent("#legend");
  await page.selectOption("#heat-category", "noise");
  await page.waitForFunction((b) => document.getElementById("legend").textContent !== b, before);
  const url = await page.evaluate(() => window.gridgov.map.getSource("heat").tiles[0]);
  assert.match(url, /category=noise/);
  await idle(page);
  assert.match(await page.textContent("#legend"), /事件\/平方公里/);
  assert.deepEqual(errors, []);
  await page.close();
});

/** Vertices in the middle of a border two grids of one community share: both neighbouring vertices are shared too. */
test("a planner drags a shared vertex, validates, publishes, and the tiles show the new border", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/");
  const candidates = await sharedVertices(server);
  assert.ok(candidates.length > 0, "the sample has borders shared inside a community");
  await page.check("#planner-mode");
  let published = null;
  for (const cand of candidates.slice(0, 8)) {
    await page.evaluate((at) => window.gridgov.map.jumpTo({ center: at, zoom: 18.5 }), cand.at);
    await idle(page);
    const box = await page.locator("#map canvas").boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    // Open the edit by clicking just beside the vertex: both grids load either way.
    await page.mouse.click(cx + 4, cy + 4);
    await page.waitForSelector("#planner-tools:not([hidden])");
    await page.evaluate((at) => window.gridgov.map.jumpTo({ center: at, zoom: 18.5 }), cand.at);
    await idle(page);
    // Select the grid under the pointer, then drag the vertex.
    await page.mouse.click(cx + 6, cy + 6);
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    for (let s = 1; s <= 6; s++) await page.mouse.move(cx + 4 * s, cy + 3 * s);
    await page.mouse.up();
    const changed = await page.evaluate(() => [...window.gridgov.state.planner.dirty]);
    if (changed.length < 2) {
      await page.click("#planner-cancel");
      continue;
    }
    assert.ok(changed.includes(cand.code) && changed.includes(cand.other), `changed ${changed}`);
    await page.click("#planner-validate");
    await page.waitForFunction(() => document.getElementById("planner-result").dataset.newErrors !== undefined);
    const newErrors = await page.evaluate(() => document.getElementById("planner-result").dataset.newErrors);
    if (newErrors !== "0") {
      const shown = await page.evaluate(() => window.gridgov.map.querySourceFeatures("problems").length);
      assert.ok(shown > 0, "the problems layer shows what validation found");
      await page.click("#planner-cancel");
      continue;
    }
    const versionBefore = await page.evaluate(() => window.gridgov.state.version);
    await page.click("#planner-publish");
    await page.waitForFunction((v) => window.gridgov.state.version > v, versionBefore);
    published = {
      ...cand,
      version: await page.evaluate(() => window.gridgov.state.version),
      data: await page.evaluate(() => window.gridgov.state.data),
    };
    break;
  }
  assert.ok(published, "one of the candidate edits validated cleanly and was published");

  // The store has the new border for both grids, the old vertex is gone.
  for (const code of [published.code, published.other]) {
    const g = await (await server.api(`/grids/${code}`)).json();
    const flat = JSON.stringify(g.geometry.coordinates);
    assert.ok(!flat.includes(`${published.at[0]},${published.at[1]}`), `${code} still has the old vertex`);
  }
  // The page asks for the new version's tiles, and what they hold is the new border.
  const tiles = await page.evaluate(() => window.gridgov.map.getSource("gg").tiles[0]);
  assert.match(tiles, new RegExp(`v=${published.data}`));
  await idle(page);
  const moved = await page.evaluate(([code, at]) => {
    const m = window.gridgov.map;
    const feats = m.querySourceFeatures("gg", { sourceLayer: "grids", filter: ["==", ["get", "code"], code] });
    let nearest = Infinity;
    for (const f of feats) {
      const polys = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [f.geometry.coordinates];
      for (const p of polys) for (const r of p) for (const c of r) {
        const a = m.project(c), b = m.project(at);
        nearest = Math.min(nearest, Math.hypot(a.x - b.x, a.y - b.y));
      }
    }
    return { count: feats.length, nearest };
  }, [published.code, published.at]);
  assert.ok(moved.count > 0, "the grid is in the refreshed tiles");
  assert.ok(moved.nearest > 3, `a tile vertex is still ${moved.nearest.toFixed(1)} px from the old position`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the map asks to sign in, refuses a wrong password, and signs out", async () => {
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  await page.goto(server.url + "/", { waitUntil: "load" });
  await page.waitForSelector("#login:not([hidden])");
  // Nothing of the district is served before signing in.
  assert.equal((await server.api("/tiles.json")).status, 200);
  assert.equal((await fetch(server.url + "/tiles.json")).status, 401);
  await page.fill("#login-name", "admin");
  await page.fill("#login-password", "not the password");
  await page.click("#login button[type=submit]");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  assert.match(await page.textContent("#login-error"), /用户名或密码错误/);
  await page.fill("#login-password", server.credentials.password);
  await page.click("#login button[type=submit]");
  await page.evaluate(() => window.gridgov.ready);
  assert.match(await page.textContent("#who"), /admin（管理员）/);
  const cookies = await browser.context.cookies(server.url);
  const c = cookies.find((x) => x.name === "gridgov_token");
  assert.ok(c && c.httpOnly && c.sameSite === "Strict");
  await Promise.all([page.waitForEvent("load"), page.click("#logout")]);
  await page.waitForSelector("#login:not([hidden])");
  await page.close();
});

test("a department handler signs in and is told the map is not theirs, with no errors", async () => {
  const r = await server.api("/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "cg", role: "department_handler", department: "城管", password: "handler password 1" }),
  });
  assert.equal(r.status, 201);
  await browser.context.clearCookies();
  const page = await browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(server.url + "/", { waitUntil: "load" });
  await page.waitForSelector("#login:not([hidden])");
  await page.fill("#login-name", "cg");
  await page.fill("#login-password", "handler password 1");
  await page.click("#login button[type=submit]");
  await page.evaluate(() => window.gridgov.ready);
  assert.match(await page.textContent("#toast"), /您的案件在 \/incidents/);
  assert.deepEqual(errors, []);
  await browser.context.clearCookies();
  await page.close();
});

test("a monitoring point over its threshold is red on the map and its card charts the readings with the alarm's case", async () => {
  const put = await server.api("/sensors/WL-T1", {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "人民路下穿桥", lon: 117.551, lat: 34.861, threshold: 30, clear_below: 20 }),
  });
  assert.equal(put.status, 201, await put.clone().text());
  const now = Date.now();
  const readings = [8, 22, 35, 41].map((value, k) => ({ at: new Date(now - (40 - k * 10) * 60_000).toISOString(), value }));
  const posted = await (await server.api("/sensors/WL-T1/readings", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ readings }),
  })).json();
  assert.equal(posted.opened.length, 1, JSON.stringify(posted));
  const caseId = posted.opened[0];

  const { page, errors } = await openMap(browser.context, server.url + "/");
  assert.ok(await page.isChecked("#layer-sensors"), "the layer is on");
  assert.equal(await page.textContent("label:has(#layer-sensors)"), " 监测点");
  await page.evaluate(() => window.gridgov.map.jumpTo({ center: [117.551, 34.861], zoom: 17 }));
  await idle(page);
  const shown = await page.evaluate(() => window.gridgov.map.queryRenderedFeatures({ layers: ["sensors"] }).map((f) => f.properties));
  assert.deepEqual(shown.map((p) => [p.code, p.alarm]), [["WL-T1", true]]);
  const at = await page.evaluate(() => { const p = window.gridgov.map.project([117.551, 34.861]); return { x: p.x, y: p.y }; });
  const box = await page.locator("#map canvas").boundingBox();
  await page.mouse.click(box.x + at.x, box.y + at.y);
  await page.waitForFunction(() => document.getElementById("card-body").dataset.sensor === "WL-T1");
  assert.equal(await page.textContent("#card h3"), "人民路下穿桥 · 监测点");
  const text = await page.textContent("#card");
  assert.match(text, /当前读数41 cm/);
  assert.match(text, new RegExp(`告警中（案件 #${caseId}）`));
  assert.match(text, /近 24 小时读数（cm）/);
  const points = await page.getAttribute("#card svg.readings polyline", "points");
  assert.equal(points.trim().split(" ").length, 4, "one vertex per reading");
  assert.ok(await page.$("#card svg.readings line.threshold"), "the threshold is drawn");
  // The alarm's case is one click away.
  await page.click("#card button.open-alarm");
  await page.waitForFunction((id) => document.querySelector("#card h3")?.textContent.startsWith(`案件 ${id} ·`), caseId);
  assert.match(await page.textContent("#card"), /积水内涝/);
  assert.deepEqual(errors, []);
  await page.close();
});
