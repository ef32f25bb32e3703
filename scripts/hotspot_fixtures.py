#!/usr/bin/env python3
"""Reference values for gridgov's hot-spot statistics, from PySAL's esda
(Getis-Ord Gi*) and pymannkendall, on the same inputs gridgov's tests use.

    pip install esda libpysal shapely pymannkendall
    python3 scripts/hotspot_fixtures.py > spatial/tests/fixtures/hotspots.json

Cases: a 10x8 lattice with a planted cluster (queen contiguity), and the
sample district's grids with their incident counts (queen contiguity
computed by libpysal from the grid polygons).
"""
import json
import random
import sys
from pathlib import Path

import numpy as np
import esda
import libpysal
import pymannkendall as mk
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent


def gi(x, neighbours):
    w = libpysal.weights.W({i: list(n) for i, n in enumerate(neighbours)}, silence_warnings=True)
    g = esda.G_Local(np.array(x, dtype=float), w, transform="B", permutations=9999, star=True, seed=12345)
    return {
        "G": [float(v) for v in g.Gs],
        "z": [float(v) for v in g.Zs],
        "p_norm": [float(v) for v in g.p_norm],
        "p_sim": [float(v) for v in g.p_sim],
    }


def lattice_case():
    rng = random.Random(20261122)
    cols, rows = 10, 8
    x = [rng.randint(0, 6) for _ in range(cols * rows)]
    for r in range(2, 5):
        for c in range(5, 8):
            x[r * cols + c] += 25 + rng.randint(0, 10)
    w = libpysal.weights.lat2W(rows, cols, rook=False)
    neighbours = [sorted(w.neighbors[i]) for i in range(cols * rows)]
    return {"name": "lattice 10x8 with a planted cluster", "cols": cols, "rows": rows,
            "x": x, "neighbours": neighbours, **gi(x, neighbours)}


def district_case():
    d = json.loads((ROOT / "data" / "sample-district.json").read_text())
    grids = [a for a in d["areas"] if a["level"] == "grid"]
    polys = [shape({"type": "MultiPolygon", "coordinates": a["boundary"]}) for a in grids]
    w = libpysal.weights.Queen.from_iterable(polys)
    neighbours = [sorted(w.neighbors[i]) for i in range(len(grids))]
    codes = [a["code"] for a in grids]
    # Each incident's grid by gridgov's rule: exclusive grids before basic
    # ones, then the lower code (points exactly on borders are rare enough
    # in random data not to matter here).
    from shapely.geometry import Point
    order = sorted(range(len(grids)), key=lambda i: (grids[i].get("kind") != "exclusive", codes[i]))
    counts = {c: 0 for c in codes}
    for inc in d["incidents"]:
        p = Point(inc["location"])
        for i in order:
            if polys[i].contains(p):
                counts[codes[i]] += 1
                break
    return {"name": "sample district grids", "codes": codes, "neighbours": neighbours,
            "x": [counts[c] for c in codes], **gi([counts[c] for c in codes], neighbours)}


def trends():
    rng = random.Random(7)
    series = [
        [float(v) for v in range(1, 13)],
        [float(12 - v) for v in range(12)],
        [float(rng.randint(0, 5)) for _ in range(26)],
        [1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 5.0, 4.0, 6.0],
    ]
    out = []
    for s in series:
        r = mk.original_test(s)
        out.append({"x": s, "s": float(r.s), "var_s": float(r.var_s), "z": float(r.z), "p": float(r.p)})
    return out


json.dump({"gi_star": [lattice_case(), district_case()], "mann_kendall": trends()}, sys.stdout, indent=1)
print()
