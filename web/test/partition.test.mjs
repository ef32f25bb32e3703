// A planner asks for proposed grids in the workbench: the figures against
// today's grids, each grid's fate, the draft's checks, then publishing;
// the community's grids after it hold the band. On both stores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openMap, backends } from "./util.mjs";

for (const backend of backends()) {
  test(`a planner proposes grids for a community, checks the draft and publishes it (${backend})`, { timeout: 240_000 }, async () => {
    const server = await startServer({ backend });
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openMap(browser.context, server.url + "/");
      await page.check("#planner-mode");
      await page.waitForSelector("#propose:not([hidden])");
      await page.waitForFunction(() => document.querySelectorAll("#propose-community option").length > 1);
      const options = await page.$$eval("#propose-community option", (os) => os.map((o) => o.value));
      const community = options[1];
      await page.selectOption("#propose-community", community);
      assert.equal(await page.textContent("#propose-run"), "自动划分网格");
      await page.click("#propose-run");
      await page.waitForSelector("#propose-metrics");
      // The figures: today's row and the proposal's, every proposed grid in the band.
      const rows = await page.$$eval("#propose-metrics tr", (trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
      assert.equal(rows[1][0], "现状");
      assert.equal(rows[2][0], "方案");
      assert.equal(rows[2][3], "100%", `proposed in band: ${rows[2]}`);
      assert.notEqual(rows[1][3], "100%", "the sample's grids are not all in the band today");
      const fates = await page.$$eval("#propose-grids li", (ls) => ls.map((l) => [l.dataset.grid, l.dataset.fate, l.textContent]));
      assert.ok(fates.some(([, f]) => f === "reshaped"), JSON.stringify(fates));
      assert.ok(fates.every(([, f, text]) => f !== "reshaped" || text.includes("调整边界")));
      // The draft's checks: no new errors, who moves where; the proposed grids drawn on the map.
      await page.waitForFunction(() => document.getElementById("propose-result").dataset.newErrors !== undefined);
      assert.equal(await page.evaluate(() => document.getElementById("propose-result").dataset.newErrors), "0");
      assert.equal(await page.textContent("#propose-result p.ok"), "没有新的拓扑错误");
      const drawn = await page.evaluate(() => window.gridgov.map.getSource("diff").serialize().data.features.map((f) => f.id));
      assert.deepEqual(drawn.sort(), fates.filter(([, f]) => f !== "removed").map(([g]) => g).sort());
      assert.equal(await page.isEnabled("#propose-publish"), true);
      const versionBefore = await page.evaluate(() => window.gridgov.state.version);
      await page.click("#propose-publish");
      await page.waitForFunction((v) => window.gridgov.state.version > v, versionBefore);
      await page.waitForFunction(() => document.querySelector("#propose-result p.ok")?.textContent.startsWith("已发布版本"));
      assert.match(await page.textContent("#propose-result"), /^已发布版本 \d+$/);
      // The store: the community's basic grids are the proposal's, each in the band.
      const items = await (await server.api(`/collections/grids/items?limit=1000`)).json();
      const mine = items.features.filter((f) => f.properties.parent_code === community && f.properties.kind !== "exclusive");
      const live = fates.filter(([, f]) => f !== "removed").map(([g]) => g).sort();
      assert.deepEqual(mine.map((f) => f.id).sort(), live);
      const { areas } = await (await server.api("/summary?level=grid")).json();
      for (const f of mine) {
        const h = areas.find((a) => a.code === f.id).counts.households;
        assert.ok(h >= 300 && h <= 500, `${f.id}: ${h} households`);
      }
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}
