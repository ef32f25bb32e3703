// The residents' page (/r) on a 390×844 touch screen, on both storage
// backends: a household's contact card is printed (GET /cards), its QR
// code read back from the rendered PDF (pdftoppm, zbarimg) and opened on
// the phone; the page shows the unit, its grid and the team to call; a
// report is filed with a photo and a phone number and the page shows its
// case number; the grid's own staff see the case with what the resident
// gave; once the desk has closed it, the resident's page offers the
// evaluation and shows it given.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launchBrowser, backends } from "./util.mjs";

/** The QR codes on the first page of a PDF, as zbar reads them from Poppler's rendering. */
function qrCodes(pdf) {
  const dir = mkdtempSync(join(tmpdir(), "gridgov-cards-"));
  try {
    const file = join(dir, "cards.pdf");
    writeFileSync(file, pdf);
    const r = spawnSync("pdftoppm", ["-r", "200", "-png", "-f", "1", "-l", "1", file, join(dir, "page")], { encoding: "utf8" });
    assert.equal(r.status, 0, `pdftoppm (poppler-utils) renders the cards: ${r.stderr || r.error}`);
    const png = readdirSync(dir).find((f) => f.endsWith(".png"));
    const z = spawnSync("zbarimg", ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", join(dir, png)], { encoding: "utf8" });
    assert.equal(z.status, 0, `zbarimg (zbar-tools) reads the codes: ${z.stderr || z.error}`);
    return z.stdout.split("\n").filter(Boolean);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const json = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

async function open(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]");
  return { page, errors };
}

for (const backend of backends()) {
  test(`a resident scans a household card, files a case the grid's staff see, and evaluates it once closed (${backend})`, async () => {
    const server = await startServer({ backend });
    const browser = await launchBrowser({ phone: true });
    try {
      const h = (await (await server.api("/households?limit=1")).json()).households[0];
      const grid = h.grid;
      assert.ok(grid, "a household in a grid");

      // The cards of the household's grid, printed and scanned.
      const cards = await server.api(`/cards?grid=${encodeURIComponent(grid)}&kind=card`);
      assert.equal(cards.status, 200, await cards.clone().text());
      assert.equal(cards.headers.get("content-type"), "application/pdf");
      const links = qrCodes(Buffer.from(await cards.arrayBuffer()));
      assert.ok(links.length >= 1 && links.length <= 10, `codes on the first sheet: ${links}`);
      const link = links[0];
      assert.match(link, new RegExp(`^${server.url}/r\\?b=[^&]+&u=`), link);

      // The phone opens the link: the unit, its grid and the team.
      const { page, errors } = await open(browser.context, link);
      assert.equal(await page.textContent("h1"), "我要报事");
      const where = await page.textContent("#place-text");
      assert.match(where, /单元$/, where);
      assert.equal(await page.locator(`#place-chain dd[data-code="${grid}"]`).count(), 1, "the grid is named");
      const members = await page.locator("#team li").count();
      assert.ok(members >= 5, `the grid's team of at least 5 and the building's leader: ${members}`);
      assert.ok((await page.textContent("#team")).includes("楼栋长"));
      assert.match(await page.getAttribute("#team li a", "href"), /^tel:\d+/);

      // Sending without a description says what is missing.
      await page.selectOption("#category", "environment");
      await page.click("#submit");
      assert.equal(await page.textContent("#form-error"), "请描述问题。");

      // The report, with a photo (a plan-map tile the service drew) and a phone number.
      const tile = await fetch(`${server.url}/r/tiles/16/54153/26020.png`);
      assert.equal(tile.status, 200);
      await page.fill("#description", "三楼楼道堆放杂物，影响通行");
      await page.setInputFiles("#photos", { name: "photo.png", mimeType: "image/png", buffer: Buffer.from(await tile.arrayBuffer()) });
      await page.fill("#name", "李四");
      await page.fill("#phone", "13900001111");
      await page.click("#submit");
      await page.waitForSelector("#done:not([hidden])");
      const id = Number(await page.textContent("#case-number"));
      assert.ok(id > 0);
      assert.equal(await page.textContent("#form-error"), "");
      await page.waitForSelector(`#mine li[data-case="${id}"]`);
      const item = await page.textContent(`#mine li[data-case="${id}"]`);
      assert.ok(item.includes("已上报") && item.includes("三楼楼道堆放杂物"), item);

      // The grid's own staff see it, with what the resident gave.
      const staff = { name: "res_staff", password: "resident-pass-2026" };
      const u = await server.api("/users", json({ ...staff, role: "grid_staff", grids: [grid] }));
      assert.equal(u.status, 201, await u.text());
      const login = await fetch(`${server.url}/login`, json(staff));
      const { token } = await login.json();
      const asStaff = (path) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const list = await (await asStaff(`/incidents?grid=${encodeURIComponent(grid)}&status=reported&limit=1000`)).json();
      assert.ok(list.cases.some((c) => c.id === id), "in the grid's list");
      const seen = await (await asStaff(`/incidents/${id}`)).json();
      assert.equal(seen.incident.reporter.name, "李四");
      assert.equal(seen.incident.reporter.phone, "13900001111");
      assert.match(seen.incident.reporter.address, /单元$/);
      assert.equal(seen.photos.length, 1);
      assert.equal(seen.photos[0].by, "resident");

      // The desk works it to the end.
      for (const step of [{ action: "accept" }, { action: "dispatch", to: { kind: "grid", name: grid } }, { action: "handle" }, { action: "feedback", note: "已清理" }, { action: "close" }]) {
        const r = await server.api(`/incidents/${id}/steps`, json(step));
        assert.equal(r.status, 201, await r.text());
      }

      // The resident's page offers the evaluation and shows it given.
      await page.reload({ waitUntil: "load" });
      await page.waitForSelector("body[data-ready=true]");
      const closed = page.locator(`#mine li[data-case="${id}"]`);
      assert.ok((await closed.textContent()).includes("已结案"));
      await closed.locator(".evaluate button.primary").click();
      assert.equal(await closed.locator(".evaluate .error").textContent(), "请选择星级。");
      await closed.locator('.stars button[aria-label="5 星"]').click();
      assert.equal(await closed.locator('.stars button[aria-pressed="true"]').count(), 5);
      await closed.locator(".evaluate textarea").fill("处理很及时");
      await closed.locator(".evaluate button.primary").click();
      await page.waitForFunction((id) => document.querySelector(`#mine li[data-case="${id}"]`)?.textContent.includes("您的评价：5 星"), id);
      assert.ok((await page.textContent(`#mine li[data-case="${id}"]`)).includes("已评价"));
      assert.equal(await page.locator(`#mine li[data-case="${id}"] .evaluate`).count(), 0, "evaluated once");
      const after = await (await asStaff(`/incidents/${id}`)).json();
      assert.equal(after.state.status, "evaluated");
      const last = after.history.at(-1);
      assert.equal(last.actor, "resident");
      assert.equal(last.action, "evaluate");
      assert.equal(last.satisfaction, 5);
      assert.equal(last.note, "处理很及时");
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

test("a resident without a QR code taps the map and is shown the grid there", async () => {
  const server = await startServer();
  const browser = await launchBrowser({ phone: true });
  try {
    const { page, errors } = await open(browser.context, `${server.url}/r`);
    assert.ok((await page.textContent("#place-text")).includes("二维码"));
    assert.ok(await page.locator("#team-card").isHidden());
    await page.click("#pick");
    await page.waitForSelector("#map canvas");
    await page.waitForFunction(() => document.querySelector("#map .maplibregl-canvas"));
    const box = await page.locator("#map").boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => !document.getElementById("place-chain").hidden);
    assert.match(await page.textContent("#place-text"), /经度 \d+\.\d{5}，纬度 \d+\.\d{5}/);
    assert.ok(await page.locator("#place-chain dd").count() >= 1);
    assert.ok(await page.locator(".maplibregl-marker").count() === 1, "the pin is where the tap was");
    // Sending without a category or description says both.
    await page.click("#submit");
    assert.equal(await page.textContent("#form-error"), "请选择问题类别。 请描述问题。");
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
