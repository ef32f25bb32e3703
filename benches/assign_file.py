#!/usr/bin/env python3
"""`gridgov assign` on a spreadsheet of points against its peer, GDAL's
SQLite-dialect spatial join (ogr2ogr -sql ... ST_Intersects), on the same
points and the same grids (the sample district, exported by gridgov).
Prints both times, rows/s and the ratio, and checks that both put every
point in the same grid (where the point is in exactly one).

    cargo build --release
    python3 benches/assign_file.py --rows 1000000
"""
import argparse, csv, os, random, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--rows", type=int, default=1_000_000)
ap.add_argument("--gridgov", default="target/release/gridgov")
ap.add_argument("--db", default="data/sample-district.json")
a = ap.parse_args()

d = tempfile.mkdtemp(prefix="assign-bench-")
pts = os.path.join(d, "pts.csv")
random.seed(3)
with open(pts, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "住户", "lon", "lat"])
    for i in range(a.rows):
        w.writerow([i, f"张{i}, 李{i}", f"{117.50 + random.random() * 0.08:.7f}", f"{34.84 + random.random() * 0.06:.7f}"])

def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t

ours = os.path.join(d, "ours.csv")
t_ours = timed([a.gridgov, "assign", pts, "--db", a.db, "--out", ours, "--quiet", "--lang", "en"])
gpkg = os.path.join(d, "grids.gpkg")
subprocess.run([a.gridgov, "export", "--db", a.db, "--out", gpkg], check=True, stdout=subprocess.DEVNULL)
t_load = timed(["ogr2ogr", "-append", "-f", "GPKG", gpkg, pts, "-nln", "pts",
                "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat", "-a_srs", "EPSG:4326"])
theirs = os.path.join(d, "gdal.csv")
t_join = timed(["ogr2ogr", "-f", "CSV", theirs, gpkg, "-dialect", "SQLite", "-sql",
                'SELECT p.id AS id, g.code AS grid FROM pts p LEFT JOIN grids g ON ST_Intersects(g.geom, p.geom)'])

mine = {}
with open(ours, encoding="utf-8-sig") as f:
    for r in csv.DictReader(f):
        mine[r["id"]] = r["grid_code"]
gdal = {}
with open(theirs) as f:
    for r in csv.DictReader(f):
        gdal.setdefault(r["id"], set()).add(r["grid"])
single = [i for i, g in gdal.items() if len(g) == 1]
agree = sum(1 for i in single if mine[i] in gdal[i])
print(f"rows {a.rows}")
print(f"gridgov assign (read CSV, answer, write CSV): {t_ours:.2f} s, {a.rows / t_ours / 1e3:.0f} k rows/s")
print(f"GDAL: load CSV into the GeoPackage {t_load:.2f} s + SQLite ST_Intersects join {t_join:.2f} s = {t_load + t_join:.2f} s, {a.rows / (t_load + t_join) / 1e3:.0f} k rows/s")
print(f"ratio (GDAL / gridgov): {(t_load + t_join) / t_ours:.1f}x")
print(f"same grid where GDAL finds exactly one: {agree} of {len(single)}")
sys.exit(0 if agree == len(single) else 1)
