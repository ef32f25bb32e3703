#!/usr/bin/env python3
"""The handheld's sync, measured: for one grid staff member's grid, the
whole slice (`GET /m/slice`) as a phone downloads it (bytes on the wire
with gzip, bytes of JSON, time to the last byte) and a delta sync
(`POST /m/slice/delta`) after 10 households of the grid were changed on
the web.

    cargo build --release
    python3 benches/handheld.py                         # the sample
    gridgov sample --scale city --out /tmp/city.gpkg    # once
    python3 benches/handheld.py --db /tmp/city.gpkg --grid first

Without --grid it takes the grid with the most households (found through
the API, which on a city-scale store reads every household: name one
there, or `first` for the first grid the API lists). Prints one Markdown table row.
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Server:
    def __init__(self, binary, db, seed, port):
        self.binary, self.db, self.seed = binary, db, seed
        self.url = f"http://127.0.0.1:{port}"
        t = time.time()
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", db, "--seed", seed, "--addr", f"127.0.0.1:{port}",
             "--rate-limit", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"{binary} serve exited with {self.proc.returncode}")
                time.sleep(0.2)
        self.startup_s = time.time() - t

    def token(self, user):
        out = subprocess.run(
            [self.binary, "tokens", "issue", user, "--db", self.db, "--seed", self.seed,
             "--label", "bench"], capture_output=True, text=True, check=True)
        return out.stdout.strip().split()[-1]

    def request(self, token, method, path, body=None, gz=False):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + token)
        if data:
            req.add_header("Content-Type", "application/json")
        if gz:
            req.add_header("Accept-Encoding", "gzip")
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=900) as r:
            wire = r.read()
            packed = r.headers.get("Content-Encoding") == "gzip"
        s = time.perf_counter() - t
        text = gzip.decompress(wire) if packed else wire
        return s, len(wire), json.loads(text) if text else None, len(text)

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def known(slice_):
    return {
        "households": {str(h["id"]): h["etag"] for h in slice_["households"]},
        "cases": {str(c["id"]): c["state"]["seq"] for c in slice_["cases"]},
        "grids": {g["code"]: g["version"] for g in slice_["grids"]},
        "visits_after": slice_["totals"]["last_visit"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "gridgov"))
    ap.add_argument("--db", help="an existing store (default: a fresh copy of the sample)")
    ap.add_argument("--seed", default=os.path.join(ROOT, "data", "sample-district.json"))
    ap.add_argument("--grid", help="the grid code, or `first` (default: the one with most households)")
    ap.add_argument("--port", type=int, default=18420)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gridgov-handheld-")
    db = a.db or os.path.join(work, "sample.gpkg")
    srv = Server(a.binary, db, a.seed, a.port)
    try:
        admin = srv.token("admin")
        grid = a.grid
        if grid == "first":
            _, _, fc, _ = srv.request(admin, "GET", "/collections/grids/items?limit=1")
            grid = fc["features"][0]["id"]
        if not grid:
            _, _, hs, _ = srv.request(admin, "GET", "/households?limit=10000")
            counts = {}
            for h in hs["households"]:
                counts[h["grid"]] = counts.get(h["grid"], 0) + 1
            grid = max(counts, key=lambda g: (counts[g], g))
        name = f"bench_m_{os.getpid()}"
        srv.request(admin, "POST", "/users",
                    {"name": name, "password": "bench-handheld-2026", "role": "grid_staff",
                     "grids": [grid]})
        tok = srv.token(name)
        full = []
        for _ in range(a.runs):
            s, wire, body, raw = srv.request(tok, "GET", "/m/slice", gz=True)
            full.append(s)
        # Ten households changed on the web, then a delta.
        for h in body["households"][:10]:
            srv.request(admin, "PUT", f"/households/{h['id']}", {"headcount": h["headcount"] + 1})
        ds, dwire, delta, draw = srv.request(tok, "POST", "/m/slice/delta", known(body), gz=True)
        assert len(delta["households"]) == min(10, len(body["households"])), delta["households"]
        print("| grid | households | open cases | buildings | slice (gzip / JSON) | first download, median of "
              f"{a.runs} | delta after 10 changes (gzip / JSON) | delta time |")
        print("|---|---|---|---|---|---|---|---|")
        print(f"| {grid} | {len(body['households']):,} | {len(body['cases']):,} | {len(body['buildings']):,} "
              f"| {wire / 1024:,.1f} KB / {raw / 1024:,.1f} KB | {statistics.median(full) * 1000:,.0f} ms "
              f"| {dwire / 1024:,.2f} KB / {draw / 1024:,.2f} KB | {ds * 1000:,.0f} ms |")
        print(f"(start-up {srv.startup_s:.1f} s)")
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
