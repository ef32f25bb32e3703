#!/usr/bin/env python3
"""gridgov's grid proposal against PySAL spopt's max-p regions, side by side.

For each community: `gridgov partition --cells` writes the buildings'
cells (the community cut into one cell per building, with its households)
and the proposal (the draft); spopt's MaxPHeuristic then regionalises the
same cells, queen contiguity, households as the threshold variable (floor
= the band's lower end), the cells' centres as the attributes. Both
results are measured here by the same code, in UTM metres: regions,
households per region, the share in the band, Polsby-Popper compactness
(mean and worst). Times: gridgov's is the proposal's own run time
(`runtime_ms`, the partition of one community: cells, search, outlines,
metrics); spopt's is `MaxPHeuristic.solve()` alone (the queen weights
are not counted).

    cargo build --release
    pip install spopt geopandas libpysal shapely
    python3 benches/partition_spopt.py                  # the sample's communities
    python3 benches/partition_spopt.py --city           # and one community of the city
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import geopandas as gpd
import libpysal
import numpy as np
from shapely.geometry import shape
from spopt.region import MaxPHeuristic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("GRIDGOV_BIN", os.path.join(ROOT, "target", "release", "gridgov"))
UTM = "EPSG:32650"  # UTM zone 50N: the sample district at 117.5° E


def gridgov(*args):
    r = subprocess.run([BIN, *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"gridgov {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def figures(geoms, households, lo, hi):
    """Regions, households min/median/max, share in band, compactness mean/worst."""
    pp = []
    for g in geoms:
        p = g.length
        pp.append(4 * math.pi * g.area / (p * p) if p > 0 else 0.0)
    inband = sum(1 for h in households if lo <= h <= hi)
    return {
        "regions": len(households),
        "households": (min(households), statistics.median(households), max(households)),
        "in_band": inband / len(households) if households else 0.0,
        "pp_mean": sum(pp) / len(pp) if pp else 0.0,
        "pp_worst": min(pp) if pp else 0.0,
    }


def community(db, code, lo, hi, work, spopt_limit):
    cells_path = os.path.join(work, f"{code}.cells.geojson")
    draft_path = os.path.join(work, f"{code}.draft.json")
    t0 = time.perf_counter()
    out = gridgov("partition", "--db", db, "--community", code, "--min", str(lo), "--max", str(hi),
                  "--cells", cells_path, "--out", draft_path, "--json")
    wall = time.perf_counter() - t0
    p = json.loads(out)
    # gridgov's grids, measured here.
    draft = json.load(open(draft_path))
    live = [g for g in p["grids"] if g["fate"] != "removed"]
    geoms = {c["code"]: shape(c["geometry"]) for c in draft["changes"] if c.get("geometry")}
    gg = gpd.GeoSeries([geoms[g["code"]] for g in live if g["code"] in geoms], crs="EPSG:4326").to_crs(UTM)
    ours = figures(list(gg), [g["households"] for g in live if g["code"] in geoms], lo, hi)
    ours["seconds"] = p["runtime_ms"] / 1000.0
    ours["process_seconds"] = wall

    cells = gpd.read_file(cells_path).to_crs(UTM)
    cells = cells[cells.geometry.area > 0].reset_index(drop=True)
    cells["x"] = cells.geometry.centroid.x
    cells["y"] = cells.geometry.centroid.y
    w = libpysal.weights.Queen.from_dataframe(cells, use_index=False, silence_warnings=True)
    theirs = None
    if len(cells) <= spopt_limit:
        model = MaxPHeuristic(cells, w, ["x", "y"], "households", lo, top_n=2)
        t0 = time.perf_counter()
        model.solve()
        secs = time.perf_counter() - t0
        cells["region"] = model.labels_
        regions = cells[cells.region >= 0].dissolve(by="region", aggfunc={"households": "sum"})
        theirs = figures(list(regions.geometry), [int(h) for h in regions.households], lo, hi)
        theirs["seconds"] = secs
        theirs["unassigned"] = int((cells.region < 0).sum())
    return {"community": code, "cells": len(cells), "islands": len(w.islands), "gridgov": ours, "spopt": theirs}


def communities_of(db):
    out = gridgov("stats", "--db", db, "--level", "community", "--json")
    rows = json.loads(out)
    rows = rows if isinstance(rows, list) else rows.get("areas", rows.get("rows", []))
    return [r["code"] for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min", type=int, default=300)
    ap.add_argument("--max", type=int, default=500)
    ap.add_argument("--city", action="store_true", help="also one community of `gridgov sample --scale city`")
    ap.add_argument("--city-db", help="the city district, if made already (else it is generated)")
    ap.add_argument("--no-sample", action="store_true", help="skip the sample's communities")
    ap.add_argument("--spopt-limit", type=int, default=3000, help="skip spopt on communities with more cells")
    ap.add_argument("--json", help="write every figure here")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gridgov-partition-")
    sample = os.path.join(work, "sample.json")
    gridgov("sample", "--out", sample)
    runs = [] if a.no_sample else [("sample", sample, c) for c in communities_of(sample)]
    if a.city:
        city = a.city_db or os.path.join(work, "city.json")
        if not a.city_db:
            gridgov("sample", "--scale", "city", "--out", city)
        runs.append(("city", city, communities_of(city)[0]))
    results = []
    print(f"{'district':8} {'community':12} {'cells':>5} | {'tool':7} {'grids':>5} {'hh min/med/max':>16} {'in band':>7} {'PP mean/worst':>13} {'seconds':>9}")
    for name, db, code in runs:
        r = community(db, code, a.min, a.max, work, a.spopt_limit)
        sys.stdout.flush()
        r["district"] = name
        results.append(r)
        for tool in ("gridgov", "spopt"):
            f = r[tool]
            if f is None:
                print(f"{name:8} {code:12} {r['cells']:>5} | {tool:7} (not run: more than --spopt-limit cells)")
                continue
            h = f["households"]
            print(f"{name:8} {code:12} {r['cells']:>5} | {tool:7} {f['regions']:>5} {h[0]:>5}/{h[1]:>5.0f}/{h[2]:>5} "
                  f"{f['in_band'] * 100:>6.0f}% {f['pp_mean']:>6.2f}/{f['pp_worst']:<6.2f} {f['seconds']:>9.3f}")
    both = [r for r in results if r["spopt"]]
    if both:
        ours = sum(r["gridgov"]["seconds"] for r in both)
        theirs = sum(r["spopt"]["seconds"] for r in both)
        print()
        print(f"grids in band: gridgov {np.mean([r['gridgov']['in_band'] for r in both]) * 100:.0f}%, "
              f"spopt {np.mean([r['spopt']['in_band'] for r in both]) * 100:.0f}%")
        print(f"mean compactness: gridgov {np.mean([r['gridgov']['pp_mean'] for r in both]):.3f}, "
              f"spopt {np.mean([r['spopt']['pp_mean'] for r in both]):.3f}")
        print(f"time: gridgov {ours:.3f} s, spopt {theirs:.3f} s: gridgov takes {ours / theirs:.4f} of spopt's time "
              f"({theirs / ours:.0f}x faster)")
    if a.json:
        json.dump(results, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
