// The street view in Chromium: a planner's panorama beside a building of
// the sample opens in Pannellum with the building's label where the
// service placed it, a neighbouring panorama as an arrow that walks to it,
// and a click on the building saying its grid. On both stores.
import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateSync, crc32 } from "node:zlib";
import { startServer, launchBrowser, openMap, backends } from "./util.mjs";

/** A w × h RGB PNG with a gradient (no image library needed). */
function png(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (w * 3 + 1) + 1 + x * 3;
      raw[o] = (x * 255) / w; raw[o + 1] = (y * 255) / h; raw[o + 2] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The point `dx` m east and `dy` m north of (lon, lat). */
function offset(lon, lat, dx, dy) {
  return [lon + dx / (111_320 * Math.cos((lat * Math.PI) / 180)), lat + dy / 110_574];
}

for (const backend of backends()) {
  test(`a street view shows the building it faces, walks to its neighbour and names the grid (${backend})`, { timeout: 180_000 }, async () => {
    const server = await startServer({ backend });
    const browser = await launchBrowser();
    try {
      const b = (await (await server.api("/collections/buildings/items?limit=12")).json()).features[11];
      const ring = b.geometry.coordinates[0][0];
      const cx = ring.reduce((s, c) => s + c[0], 0) / ring.length;
      const cy = ring.reduce((s, c) => s + c[1], 0) / ring.length;
      const [lon, lat] = offset(cx, cy, -35, 0);
      const up = async (at, heading) => {
        const r = await server.api(`/panoramas?lon=${at[0]}&lat=${at[1]}&heading=${heading}&eye=2`, {
          method: "POST", headers: { "content-type": "image/png" }, body: png(1024, 512),
        });
        assert.equal(r.status, 201, await r.clone().text());
        return (await r.json()).id;
      };
      const first = await up([lon, lat], 90);
      const second = await up(offset(lon, lat, 0, 25), 0);

      const { page, errors } = await openMap(browser.context, server.url + "/");
      // The map shows both on its street view layer.
      await page.waitForFunction(() => window.gridgov.map.getSource("panoramas").serialize().data.features?.length === 2);
      await page.goto(`${server.url}/panorama?id=${first}`);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 60_000 });
      assert.equal(await page.textContent("#back"), "返回地图");
      const labels = await page.$$eval(".gg-label", (ls) => ls.map((l) => [l.dataset.kind, l.textContent]));
      assert.ok(labels.some(([k, t]) => k === "building" && t === b.properties.address), JSON.stringify(labels));
      assert.ok(labels.some(([k, t]) => k === "panorama" && /^➤ 前往 25 米$/.test(t)), JSON.stringify(labels));
      // Facing east, the building straight ahead is in the middle of the screen.
      const box = await page.locator(".gg-building .gg-label", { hasText: b.properties.address }).first().boundingBox();
      const vw = page.viewportSize().width;
      assert.ok(box && Math.abs(box.x + box.width / 2 - vw / 2) < vw * 0.08, `label at ${JSON.stringify(box)} of ${vw}`);
      // A click names the building and its grid.
      await page.locator(".gg-building .gg-label", { hasText: b.properties.address }).first().click();
      await page.waitForSelector("#info:not([hidden])");
      const info = await page.textContent("#info-fields");
      assert.ok(info.includes(b.properties.code) && info.includes(b.properties.grid), info);
      // The neighbour is 25 m north: to the left when facing east. Turned
      // towards it, its arrow walks there.
      await page.evaluate(() => window.gridgovPano.viewer.setYaw(-90, false));
      await page.locator(".gg-panorama .gg-label").first().click();
      await page.waitForURL(`**/panorama?id=${second}`);
      await page.waitForSelector("body[data-loaded=true]", { timeout: 60_000 });
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}
