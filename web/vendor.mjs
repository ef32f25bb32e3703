// Copies the browser builds of the map and panorama libraries from node_modules into
// vendor/, where gridgov embeds them: the web map runs with no CDN.
// `npm ci && npm run vendor` refreshes them; `node vendor.mjs --check`
// fails when vendor/ differs from what package-lock.json pins.
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const files = [
  ["maplibre-gl/dist/maplibre-gl.mjs", "maplibre-gl.mjs"],
  ["maplibre-gl/dist/maplibre-gl-worker.mjs", "maplibre-gl-worker.mjs"],
  ["maplibre-gl/dist/maplibre-gl.css", "maplibre-gl.css"],
  ["maplibre-gl/LICENSE.txt", "LICENSE.maplibre-gl.txt"],
  ["terra-draw/dist/terra-draw.module.js", "terra-draw.module.js"],
  ["terra-draw-maplibre-gl-adapter/dist/terra-draw-maplibre-gl-adapter.module.js", "terra-draw-maplibre-gl-adapter.module.js"],
  ["pannellum/build/pannellum.js", "pannellum.js"],
  ["pannellum/build/pannellum.css", "pannellum.css"],
  ["pannellum/COPYING", "LICENSE.pannellum.txt"],
];
const check = process.argv.includes("--check");
mkdirSync(join(here, "vendor"), { recursive: true });
let stale = [];
for (const [from, to] of files) {
  const src = readFileSync(join(here, "node_modules", from));
  const dst = join(here, "vendor", to);
  if (check) {
    let cur = null;
    try { cur = readFileSync(dst); } catch { /* missing */ }
    if (!cur || !cur.equals(src)) stale.push(to);
  } else {
    writeFileSync(dst, src);
  }
}
if (stale.length) {
  console.error(`vendor/ is out of date: ${stale.join(", ")}; run npm run vendor`);
  process.exit(1);
}
console.log(check ? "vendor/ matches node_modules" : `copied ${files.length} files to vendor/`);
