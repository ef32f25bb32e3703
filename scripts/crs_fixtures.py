#!/usr/bin/env python3
"""Reference coordinates for gridgov's coordinate systems, from pyproj
(PROJ): for each system, points in its area of use as longitude/latitude
and as that system's x/y. `spatial/tests/crs_vs_pyproj.rs` checks
gridgov's conversions against them (within 1 mm).

    pip install pyproj
    python3 scripts/crs_fixtures.py > spatial/tests/fixtures/crs.json
"""

import json

import pyproj

# (EPSG code, geographic base, central longitude, latitudes to sample)
SYSTEMS = [
    (4490, 4490, 117.0, [34.8]),  # CGCS2000 longitude/latitude
    (4527, 4490, 117.0, [34.8, 36.2]),  # CGCS2000 3° GK zone 39, prefixed
    (4547, 4490, 114.0, [22.5, 30.6]),  # CGCS2000 3° GK CM 114°E, no prefix
    (4499, 4490, 123.0, [41.8]),  # CGCS2000 6° GK zone 21, prefixed
    (4509, 4490, 117.0, [34.8]),  # CGCS2000 6° GK CM 117°E, no prefix
    (32650, 4326, 117.0, [34.8, 0.5]),  # UTM 50N
    (32750, 4326, 117.0, [-8.1, -33.9]),  # UTM 50S
    (32635, 4326, 27.0, [60.17]),  # UTM 35N (Helsinki)
    (3857, 4326, 117.0, [34.8, 60.17, -33.9]),  # Web Mercator
]


def main():
    out = []
    for code, base, lon0, lats in SYSTEMS:
        t = pyproj.Transformer.from_crs(base, code, always_xy=True)
        name = pyproj.CRS.from_epsg(code).name
        for lat in lats:
            for dlon in (-1.3, 0.0, 0.7):
                lon = lon0 + dlon
                x, y = t.transform(lon, lat)
                out.append({"epsg": code, "name": name, "lon": lon, "lat": lat,
                            "x": x, "y": y})
    print(json.dumps({"pyproj": pyproj.__version__, "proj": pyproj.proj_version_str,
                      "points": out}, indent=1))


if __name__ == "__main__":
    main()
