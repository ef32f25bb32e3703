// The users' screens in headless Chromium, in Chinese (one in English):
// the command center's dashboard (KPI tiles equal to /stats/overview, a
// case filed over HTTP in the live list within a second, charts with
// axes linked to the map, the time slider moving the heatmap), a case's
// card with its steps, and the planner's workbench (moving buildings
// listed and highlighted, refused drags explained, version history and
// a rollback that puts the old border back on the map). Each screen is
// compared with its golden screenshot.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openMap, idle, sharedVertices, matchesGolden } from "./util.mjs";

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

const WALL = { width: 1600, height: 900 };

async function openDashboard(query = "") {
  const opened = await openMap(browser.context, `${server.url}/dashboard${query}`, WALL);
  await opened.page.waitForSelector("#kpis .kpi");
  await opened.page.waitForFunction(() => document.getElementById("live").dataset.connected === "true");
  return opened;
}

const kpis = (page) => page.evaluate(() => Object.fromEntries(
  [...document.querySelectorAll("#kpis .kpi")].map((k) => [k.dataset.kpi, k.querySelector(".kpi-value").textContent])));

test("the command center's dashboard shows the figures of /stats/overview and a case filed over HTTP within a second", async () => {
  const { page, errors } = await openDashboard();
  assert.equal(await page.title(), "gridgov · 指挥中心一张图");
  const o = await (await server.api("/stats/overview")).json();
  const shown = await kpis(page);
  assert.equal(shown.new_today, String(o.new_today));
  assert.equal(shown.open, String(o.open));
  assert.equal(shown.overdue, String(o.overdue));
  assert.equal(shown.closed_today, String(o.closed_today));
  const labels = await page.$$eval("#kpis .kpi-label", (n) => n.map((x) => x.textContent));
  assert.deepEqual(labels, ["今日新增", "未结案件", "超期", "今日结案", "满意度"]);
  // Charts with axes, units and category names in Chinese.
  for (const id of ["chart-category", "chart-grid", "chart-day"]) {
    assert.ok(await page.$(`#${id} line.axis`), `${id} has an axis`);
    assert.match(await page.textContent(`#${id}`), /件/);
  }
  assert.match(await page.textContent("#chart-category"), /环境卫生/);
  assert.equal(await page.$$eval("#chart-day rect", (r) => r.length), 30, "30 days by default");
  // The month's assessment: the best ranked grids of /stats/assessment.
  const a = await (await server.api("/stats/assessment")).json();
  const ranked = a.grids.filter((g) => g.rank !== null).slice(0, 5);
  const shownRows = await page.$$eval("#assessment tr[data-grid]", (trs) => trs.map((tr) => [tr.dataset.grid, ...[...tr.cells].map((c) => c.textContent)]));
  assert.deepEqual(shownRows.map((r) => r[0]), ranked.map((g) => g.code));
  for (const [k, g] of ranked.entries()) {
    assert.equal(shownRows[k][1], String(g.rank));
    assert.equal(shownRows[k][2], g.name);
    assert.equal(shownRows[k][6], g.score === null ? "–" : new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 1 }).format(g.score));
  }
  if (!ranked.length) assert.equal(await page.textContent("#assessment"), "本月暂无可考核的案件");
  await idle(page);
  await matchesGolden(page, "dashboard", await page.screenshot(), 0.04);

  // A case filed over the API reaches the live list within a second.
  const grid = "370402005013001";
  const filed = await server.api("/incidents", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ lon: 117.55, lat: 34.86, category: "street_vending", description: "路口占道摆摊" }),
  });
  assert.equal(filed.status, 201);
  const id = (await filed.json()).id;
  const t0 = Date.now();
  await page.waitForSelector(`#live-list li[data-case="${id}"]`, { timeout: 1000 });
  assert.ok(Date.now() - t0 < 1000);
  const item = await page.textContent(`#live-list li[data-case="${id}"]`);
  assert.match(item, new RegExp(`#${id} 占道经营`));
  assert.match(item, /新案件/);
  assert.match(item, /公胜街第1网格/);
  assert.equal(await page.$eval("#live-list li", (li) => li.dataset.case), String(id), "the newest is on top");
  // The tiles follow within their two-second refresh.
  await page.waitForFunction((n) => document.querySelector('[data-kpi="new_today"]').dataset.value === String(n), o.new_today + 1, { timeout: 5000 });
  assert.equal((await kpis(page)).new_today, String((await (await server.api("/stats/overview")).json()).new_today));

  // Its card: number, time, description, deadline, history, steps.
  await page.click(`#live-list li[data-case="${id}"]`);
  await page.waitForFunction((i) => document.getElementById("card-body").dataset.case === String(i), id);
  const card = await page.textContent("#card");
  for (const want of [`案件 ${id} · 占道经营`, "编号", "上报时间", "路口占道摆摊", "期限", "处置记录", "可办理", "公胜街第1网格"]) {
    assert.ok(card.includes(want), `the card shows ${want}: ${card}`);
  }
  const steps = await page.$$eval("#case-steps button", (b) => b.map((x) => x.textContent));
  assert.deepEqual(steps.slice(0, 2), ["受理", "不予受理"]);
  await page.click('#case-steps button[data-action="accept"]');
  await page.waitForFunction(() => document.getElementById("case-history")?.textContent.includes("受理"));
  const c = await (await server.api(`/incidents/${id}`)).json();
  assert.equal(c.state.status, "accepted");
  // And the step reaches the live list as well.
  await page.waitForFunction((i) => document.querySelector(`#live-list li[data-case="${i}"]`)?.textContent.includes("已受理"), id);
  assert.ok(grid);
  assert.deepEqual(errors, []);
  await page.close();
});

test("the time slider moves the heatmap, the incident points and the charts by week and plays", async () => {
  const { page, errors } = await openDashboard();
  const heatTiles = () => page.evaluate(() => window.gridgov.map.getSource("heat").tiles[0]);
  const before = await heatTiles();
  await page.selectOption("#heat-step", "week");
  await page.$eval("#heat-time", (r) => { r.value = "10"; r.dispatchEvent(new Event("input")); });
  await page.waitForFunction(() => document.getElementById("heat-from").value !== "");
  const from = await page.inputValue("#heat-from");
  const to = await page.inputValue("#heat-to");
  assert.equal((Date.parse(to) - Date.parse(from)) / 86_400_000, 6, `${from}..${to} is a week`);
  await page.waitForFunction((b) => window.gridgov.map.getSource("heat").tiles[0] !== b, before);
  assert.match(await heatTiles(), new RegExp(`from=${from}&to=${to}`));
  const inc = await page.evaluate(() => window.gridgov.map.getSource("inc").tiles[0]);
  assert.match(inc, new RegExp(`from=${from}&to=${to}`), "the incident points follow the same window");
  await page.waitForFunction((p) => document.getElementById("charts").dataset.period === p, `${from}..${to}`);
  assert.equal(await page.$$eval("#chart-day rect", (r) => r.length), 7);
  assert.match(await page.textContent("#heat-window"), new RegExp(`${from} 至 ${to}`));
  // The heatmap of that week is another picture than all time.
  const stats = await (await server.api(`/stats/incidents?level=grid&period=${from}..${to}`)).json();
  const week = stats.by_day.reduce((n, d) => n + d.incidents, 0);
  const bars = await page.$$eval("#chart-day rect", (r) => r.map((x) => x.getAttribute("data-day")));
  assert.deepEqual(bars, stats.by_day.map((d) => d.day));
  assert.ok(week > 0, "the week has incidents");
  // Playing moves the window forward a week at a time.
  await page.click("#heat-play");
  assert.equal(await page.textContent("#heat-play"), "暂停");
  await page.waitForFunction((f) => document.getElementById("heat-from").value > f, from, { timeout: 5000 });
  await page.click("#heat-play");
  assert.equal(await page.textContent("#heat-play"), "播放");
  assert.deepEqual(errors, []);
  await page.close();
});

test("clicking a grid's bar filters the charts to that grid and highlights it on the map", async () => {
  const { page, errors } = await openDashboard();
  const first = await page.$eval("#chart-grid .bar", (g) => ({ code: g.dataset.key, name: g.querySelector("text").textContent }));
  await page.click("#chart-grid .bar");
  await page.waitForSelector("#dash-filter:not([hidden])");
  assert.match(await page.textContent("#dash-filter"), new RegExp(first.name));
  assert.deepEqual(await page.evaluate(() => window.gridgov.map.getFilter("grid-highlight")), ["==", ["get", "code"], first.code]);
  await page.waitForFunction((c) => document.getElementById("charts").dataset.grid === c, first.code);
  // The category bars now add up to that grid's count.
  const total = await page.$$eval("#chart-category .bar .value", (v) => v.reduce((n, x) => n + Number(x.textContent.replaceAll(",", "")), 0));
  const period = await page.evaluate(() => document.getElementById("charts").dataset.period);
  const s = await (await server.api(`/stats/incidents?level=grid&period=${period}`)).json();
  assert.equal(total, s.areas.find((a) => a.code === first.code).incidents);
  await page.click("#dash-filter-clear");
  await page.waitForSelector("#dash-filter", { state: "hidden" });
  assert.deepEqual(errors, []);
  await page.close();
});

test("in English the dashboard says the same in English", async () => {
  const { page, errors } = await openDashboard("?lang=en");
  assert.equal(await page.title(), "gridgov · command center");
  const labels = await page.$$eval("#kpis .kpi-label", (n) => n.map((x) => x.textContent));
  assert.deepEqual(labels, ["New today", "Open", "Overdue", "Closed today", "Satisfaction"]);
  const heads = await page.$$eval("#live h2", (n) => n.map((x) => x.textContent));
  assert.equal(heads[0], "Grid assessment this month");
  assert.match(heads[1], /Live cases/);
  // Categories by their English names (whichever the window holds).
  const cats = await page.textContent("#chart-category");
  assert.match(cats, /cases/);
  assert.doesNotMatch(cats, /[\u4e00-\u9fff]/);
  assert.equal(await page.inputValue("#lang"), "en");
  // The switch back to Chinese is remembered on this device.
  await Promise.all([page.waitForEvent("load"), page.selectOption("#lang", "zh-CN")]);
  await page.evaluate(() => window.gridgov.ready);
  assert.equal(await page.title(), "gridgov · 指挥中心一张图");
  assert.deepEqual(errors, []);
  await page.close();
});

/**
 * Opens the edit at the shared vertex of `cand` and drags the vertex by
 * (dx, dy) px at `zoom` (a function of the page gives them when they
 * depend on the view); the grids changed.
 */
async function dragVertex(page, cand, dx, dy, zoom = 18.5) {
  const at = (z) => page.evaluate(([c, z]) => window.gridgov.map.jumpTo({ center: c, zoom: z }), [cand.at, z]);
  await at(zoom);
  await idle(page);
  const box = await page.locator("#map canvas").boundingBox();
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.click(cx + 4, cy + 4);
  await page.waitForSelector("#planner-tools:not([hidden])");
  await at(zoom);
  await idle(page);
  if (typeof dx === "function") [dx, dy] = await dx();
  await page.mouse.click(cx + 6, cy + 6);
  await page.mouse.move(cx, cy);
  await page.mouse.down();
  const steps = Math.max(6, Math.ceil(Math.hypot(dx, dy) / 8));
  for (let s = 1; s <= steps; s++) await page.mouse.move(cx + (dx * s) / steps, cy + (dy * s) / steps);
  await page.mouse.up();
  return page.evaluate(() => [...window.gridgov.state.planner.dirty]);
}

test("a drag that would make a grid cross its neighbour is refused on the spot, and the planner is told why", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/map");
  await page.check("#planner-mode");
  // Into a third grid near the vertex: the dragged grid would overlap it.
  const ringOf = (f) => (f.geometry.type === "MultiPolygon" ? f.geometry.coordinates[0] : f.geometry.coordinates)[0];
  const centre = (r) => r.slice(1).reduce((s, p) => [s[0] + p[0] / (r.length - 1), s[1] + p[1] / (r.length - 1)], [0, 0]);
  const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  let cand = null;
  let target = null;
  for (const c of await sharedVertices(server)) {
    const d = 0.003;
    const near = await (await server.api(`/collections/grids/items?bbox=${c.at[0] - d},${c.at[1] - d},${c.at[0] + d},${c.at[1] + d}&limit=100`)).json();
    const third = near.features.filter((x) => ![c.code, c.other].includes(x.id) && x.properties.kind === "basic")
      .map((f) => centre(ringOf(f)))
      .filter((m) => dist(m, c.at) < 0.004)
      .sort((a, b) => dist(a, c.at) - dist(b, c.at))[0];
    if (third) { cand = c; target = third; break; }
  }
  assert.ok(target, "a third grid near the vertex");
  const changed = await dragVertex(page, cand, () => page.evaluate(([v, t]) => {
    const m = window.gridgov.map;
    const a = m.project(v), b = m.project(t);
    return [b.x - a.x, b.y - a.y];
  }, [cand.at, target]), null, 16);
  await page.waitForSelector("#planner-refused");
  assert.match(await page.textContent("#planner-refused"), /拖动被拒绝：网格 \d+ (会与 \d+ 重叠|的边界会自相交)/);
  // Whatever was accepted before the refusal is valid; the store is untouched.
  const g = await (await server.api(`/grids/${cand.code}`)).json();
  assert.ok(JSON.stringify(g.geometry.coordinates).includes(`${cand.at[0]},${cand.at[1]}`));
  assert.ok(Array.isArray(changed));
  await page.click("#planner-cancel");
  assert.deepEqual(errors, []);
  await page.close();
});

test("the planner's preview lists and highlights the buildings that move and locates every new problem", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/map");
  await page.check("#planner-mode");
  // Shared vertices where a border turns (its neighbours along the border
  // are far apart), the grids on either side by how near the households
  // band each is (a move there is likeliest to warn), and for each a
  // building of the neighbour close to the border: dragging the vertex
  // past the building hands it over.
  const summary = new Map((await (await server.api("/summary")).json()).areas.map((a) => [a.code, a.counts.households]));
  const edge = (h) => Math.min(Math.abs(h - 300), Math.abs(h - 500));
  const metres = (a, b) => Math.hypot((a[0] - b[0]) * 91_000, (a[1] - b[1]) * 111_000);
  const candidates = (await sharedVertices(server))
    .filter((c) => metres(c.prev, c.next) > 60)
    .sort((a, b) => Math.min(edge(summary.get(a.code)), edge(summary.get(a.other))) - Math.min(edge(summary.get(b.code)), edge(summary.get(b.other))));
  const plans = [];
  for (const cand of candidates.slice(0, 30)) {
    const mid = [(cand.prev[0] + cand.next[0]) / 2, (cand.prev[1] + cand.next[1]) / 2];
    const d = 0.002;
    const near = await (await server.api(`/collections/buildings/items?bbox=${mid[0] - d},${mid[1] - d},${mid[0] + d},${mid[1] + d}&limit=200`)).json();
    for (const f of near.features.filter((x) => x.properties.grid === cand.other && !x.properties.straddling)) {
      const ring = (f.geometry.type === "MultiPolygon" ? f.geometry.coordinates[0] : f.geometry.coordinates)[0];
      const c = ring.slice(1).reduce((s, p) => [s[0] + p[0] / (ring.length - 1), s[1] + p[1] / (ring.length - 1)], [0, 0]);
      if (metres(c, mid) > 120) continue;
      plans.push({ cand, target: [c[0] + 2 * (c[0] - mid[0]), c[1] + 2 * (c[1] - mid[1])] });
    }
  }
  assert.ok(plans.length > 0, "the sample has buildings near turning borders");
  let done = null;
  for (const { cand, target } of plans.slice(0, 12)) {
    const changed = await dragVertex(page, cand, () => page.evaluate(([v, t]) => {
      const m = window.gridgov.map;
      const a = m.project(v), b = m.project(t);
      return [b.x - a.x, b.y - a.y];
    }, [cand.at, target]), null, 17);
    if (changed.length < 2) { await page.click("#planner-cancel"); continue; }
    assert.equal(await page.textContent("#planner-author"), "admin", "the author is the signed-in user");
    await page.click("#planner-validate");
    await page.waitForFunction(() => document.getElementById("planner-result").dataset.newErrors !== undefined);
    const moving = await page.$$eval("#planner-buildings li", (l) => l.map((x) => x.dataset.building));
    if (moving.length === 0) {
      await page.click("#planner-cancel");
      await page.evaluate(() => { delete document.getElementById("planner-result").dataset.newErrors; });
      continue;
    }
    done = { cand, moving };
    break;
  }
  assert.ok(done, "one of the drags moved a building");
  const result = await page.textContent("#planner-result");
  assert.match(result, /改变网格的楼栋/);
  assert.match(result, /栋楼、\d+ 个单元、\d+ 户/);
  // Each moving building by its address, and highlighted on the map.
  const items = await page.$$eval("#planner-buildings li", (l) => l.map((x) => x.textContent));
  assert.ok(items.every((t) => /号楼 → 3704020050\d{5}/.test(t)), items.join("\n"));
  const filter = await page.evaluate(() => window.gridgov.map.getFilter("moved-buildings"));
  assert.deepEqual(filter[2], ["literal", done.moving]);
  // Every new problem is listed (errors and warnings apart), drawn on the
  // map, and a click on it goes to its place.
  const listed = await page.$$eval("#planner-problems li", (l) => l.map((x) => ({ cls: x.className, located: x.classList.contains("located") })));
  const newErrors = Number(await page.evaluate(() => document.getElementById("planner-result").dataset.newErrors));
  assert.equal(listed.filter((x) => x.cls.includes("error")).length, newErrors);
  if (listed.length) {
    assert.ok(listed.every((x) => x.located), "every new problem has a place");
    // Told in Chinese, with the service's own sentence on hover.
    const told = await page.$$eval("#planner-problems li", (l) => l.map((x) => ({ text: x.textContent, title: x.title })));
    for (const p of told) {
      assert.match(p.text, /[\u4e00-\u9fff]/, p.text);
      assert.ok(p.title.length > 0 && p.title !== p.text, p.title);
    }
    const drawn = await page.evaluate(() => window.gridgov.map.getSource("problems").serialize().data.features.length);
    assert.equal(drawn, listed.length);
    const z0 = await page.evaluate(() => window.gridgov.map.getCenter().toArray());
    await page.click("#planner-problems li");
    await idle(page);
    assert.notDeepEqual(await page.evaluate(() => window.gridgov.map.getCenter().toArray()), z0, "the map went to the problem");
  }
  assert.equal(await page.isDisabled("#planner-publish"), newErrors > 0, "publishing is refused exactly when there are new errors");
  await matchesGolden(page, "planner-preview", await page.screenshot(), 0.05);
  await page.click("#planner-cancel");
  assert.deepEqual(errors, []);
  await page.close();
});

test("a planner publishes a small move; the history lists it by its author and a rollback restores the border on the map", async () => {
  const { page, errors } = await openMap(browser.context, server.url + "/map");
  await page.check("#planner-mode");
  let done = null;
  for (const cand of (await sharedVertices(server)).slice(0, 8)) {
    const changed = await dragVertex(page, cand, 24, 18);
    if (changed.length < 2) { await page.click("#planner-cancel"); continue; }
    assert.equal(await page.textContent("#planner-author"), "admin", "the author is the signed-in user");
    await page.click("#planner-validate");
    await page.waitForFunction(() => document.getElementById("planner-result").dataset.newErrors !== undefined);
    if (await page.evaluate(() => document.getElementById("planner-result").dataset.newErrors !== "0")) {
      await page.click("#planner-cancel");
      await page.evaluate(() => { delete document.getElementById("planner-result").dataset.newErrors; });
      continue;
    }
    done = { cand };
    break;
  }
  assert.ok(done, "one of the small drags validated cleanly");
  assert.match(await page.textContent("#planner-result"), /没有新的拓扑错误/);
  const before = await page.evaluate(() => window.gridgov.state.version);
  await page.click("#planner-publish");
  await page.waitForFunction((v) => window.gridgov.state.version > v, before);
  const published = await page.evaluate(() => window.gridgov.state.version);
  // History: the new version on top, by the signed-in user, with its reason.
  await page.click("#history summary");
  await page.waitForSelector(`#history-list li[data-version="${published}"]`);
  const line = await page.textContent(`#history-list li[data-version="${published}"]`);
  assert.match(line, new RegExp(`版本 ${published}`));
  assert.match(line, /admin · 边界调整/);
  // Before/after of that version: the old border dashed, the new one solid.
  await page.click(`#history-list li[data-version="${published}"] .show-diff`);
  await page.waitForFunction(() => window.gridgov.map.querySourceFeatures("diff").length > 0);
  const sides = await page.evaluate(() => [...new Set(window.gridgov.map.querySourceFeatures("diff").map((f) => f.properties.side))].sort());
  assert.deepEqual(sides, ["after", "before"]);
  // Restore the version before it.
  page.once("dialog", (d) => d.accept());
  await page.click(`#history-list li[data-version="${before}"] .rollback`);
  await page.waitForFunction((v) => window.gridgov.state.version > v, published);
  const g = await (await server.api(`/grids/${done.cand.code}`)).json();
  assert.ok(JSON.stringify(g.geometry.coordinates).includes(`${done.cand.at[0]},${done.cand.at[1]}`), "the old vertex is back");
  // And the map's tiles show it again.
  await page.evaluate((at) => window.gridgov.map.jumpTo({ center: at, zoom: 18.5 }), done.cand.at);
  await idle(page);
  const nearest = await page.evaluate(([code, at]) => {
    const m = window.gridgov.map;
    let best = Infinity;
    for (const f of m.querySourceFeatures("gg", { sourceLayer: "grids", filter: ["==", ["get", "code"], code] })) {
      const polys = f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [f.geometry.coordinates];
      for (const p of polys) for (const r of p) for (const c of r) {
        const a = m.project(c), b = m.project(at);
        best = Math.min(best, Math.hypot(a.x - b.x, a.y - b.y));
      }
    }
    return best;
  }, [done.cand.code, done.cand.at]);
  assert.ok(nearest < 2, `the restored vertex is ${nearest.toFixed(1)} px from where it was`);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a monitoring point's alarm reaches the dashboard's live list within a second, marked as an alarm", async () => {
  const put = await server.api("/sensors/WL-D1", {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "光明路积水点", lon: 117.552, lat: 34.862, threshold: 25 }),
  });
  assert.ok([200, 201].includes(put.status), await put.clone().text());
  const { page, errors } = await openDashboard();
  await page.waitForFunction(() => document.getElementById("live").dataset.connected === "true");
  const t0 = Date.now();
  const posted = await (await server.api("/sensors/WL-D1/readings", {
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: `at,value\n${new Date(t0 - 60_000).toISOString()},12\n${new Date(t0).toISOString()},31\n`,
  })).json();
  assert.equal(posted.opened.length, 1, JSON.stringify(posted));
  const id = posted.opened[0];
  await page.waitForSelector(`#live-list li.alarm[data-case="${id}"]`, { timeout: 1000 });
  assert.ok(Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  const item = await page.textContent(`#live-list li[data-case="${id}"]`);
  assert.match(item, new RegExp(`告警 #${id} 积水内涝`));
  assert.match(item, /新案件/);
  assert.deepEqual(errors, []);
  await page.close();
});
