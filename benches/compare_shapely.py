#!/usr/bin/env python3
"""Assign the same points to the same grids with gridgov and with shapely
(STRtree + prepared contains_xy), check they agree, print the ratio.

    pip install shapely numpy
    cargo build --release
    python3 benches/compare_shapely.py [--workload district|city] [--points N]

Both read the files written by `gridgov bench-data`: grids.geojson and
points.f64 (little-endian lon/lat pairs). shapely uses one core, as it does;
gridgov is reported on one and on two threads.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import shapely
from shapely.geometry import shape


def run_gridgov(exe, d, threads):
    out = subprocess.run(
        [exe, "assign", "--grids", os.path.join(d, "grids.geojson"),
         "--points", os.path.join(d, "points.f64"), "--threads", str(threads), "--repeat", "5"],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_shapely(d):
    with open(os.path.join(d, "grids.geojson")) as f:
        grids = [shape(ft["geometry"]) for ft in json.load(f)["features"]]
    pts = np.fromfile(os.path.join(d, "points.f64"), dtype="<f8").reshape(-1, 2)
    t = time.perf_counter()
    tree = shapely.STRtree(grids)
    for g in grids:
        shapely.prepare(g)
    build = time.perf_counter() - t
    geoms = shapely.points(pts)  # built outside the timed part, in shapely's favour
    garr = np.asarray(grids)
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        # Candidates by envelope from the STRtree, then prepared contains_xy.
        pidx, gidx = tree.query(geoms)
        hit = shapely.contains_xy(garr[gidx], pts[pidx, 0], pts[pidx, 1])
        best = min(best, time.perf_counter() - t)
    owner = np.full(len(pts), -1, dtype=np.int64)
    owner[pidx[hit]] = gidx[hit]
    n = min(20000, len(pts))
    t = time.perf_counter()
    for q in pts[:n]:
        for i in tree.query(shapely.Point(q[0], q[1])):
            if shapely.contains_xy(grids[i], q[0], q[1]):
                break
    single = (time.perf_counter() - t) / n
    inside = int((owner >= 0).sum())
    return {"points": len(pts), "inside": inside, "checksum": int(owner[owner >= 0].sum()),
            "build_s": build, "best_s": best, "points_per_s": len(pts) / best, "single_s": single}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", default="district", choices=["district", "city"])
    ap.add_argument("--points", type=int, default=10_000_000)
    ap.add_argument("--gridgov", default="target/release/gridgov")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([a.gridgov, "bench-data", "--workload", a.workload, "--points", str(a.points), "--out", d],
                       check=True)
        g1 = run_gridgov(a.gridgov, d, 1)
        g2 = run_gridgov(a.gridgov, d, 2)
        s = run_shapely(d)
    print(f"workload {a.workload}: {a.points:,} points, {g2['grids']} grids")
    print(f"  shapely STRtree+contains_xy : {s['points_per_s'] / 1e6:8.2f} M points/s   single lookup {s['single_s'] * 1e6:.1f} µs")
    print(f"  gridgov, 1 thread           : {g1['points_per_s'] / 1e6:8.2f} M points/s   ({g1['points_per_s'] / s['points_per_s']:.0f}×)")
    print(f"  gridgov, 2 threads          : {g2['points_per_s'] / 1e6:8.2f} M points/s   ({g2['points_per_s'] / s['points_per_s']:.0f}×)")
    # No generated point lies on a border, so both must give every point
    # the same grid: compare the count inside and the sum of grid numbers.
    agree = (g2["inside"], g2["checksum"]) == (s["inside"], s["checksum"])
    print(f"  inside: gridgov {g2['inside']:,}, shapely {s['inside']:,}; "
          f"checksums {g2['checksum']} / {s['checksum']} -> {'agree' if agree else 'DIFFER'}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
