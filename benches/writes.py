#!/usr/bin/env python3
"""Writes as the district grows: generates districts of growing size, serves
each with one or two builds of gridgov side by side, and measures what a
write costs and what it does to the reads after it.

For each build and size: `POST /incidents` with one client (p50, p99) and
with eight (writes/s), the first vector tile and heatmap tile after a write
against the same tile rendered again with nothing changed, `GET
/incidents/{id}`, start-up and resident memory before and after the writes.

    cargo build --release
    python3 benches/writes.py --scales 1 10 100
    python3 benches/writes.py --scales 1 10 --base /path/to/older/gridgov

Needs wrk and a free port range from 18300. Prints a Markdown table.
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
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def tile_of(lon, lat, z):
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(r)) / math.pi) / 2.0 * n)
    return x, y


class Server:
    def __init__(self, binary, seed, work, port):
        self.binary, self.port = binary, port
        self.db = os.path.join(work, f"{port}.gpkg")
        self.url = f"http://127.0.0.1:{port}"
        t = time.time()
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", self.db, "--seed", seed,
             "--addr", f"127.0.0.1:{port}", "--rate-limit", "0",
             "--tile-cache-mb", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"{binary} serve exited with {self.proc.returncode}")
                time.sleep(0.1)
        self.startup_s = time.time() - t
        out = subprocess.run(
            [binary, "tokens", "issue", "admin", "--db", self.db, "--seed", seed,
             "--label", "bench"], capture_output=True, text=True, check=True)
        self.token = out.stdout.strip().split()[-1]

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.token)
        if data:
            req.add_header("Content-Type", "application/json")
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=600) as r:
            payload = r.read()
        return time.perf_counter() - t, payload

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def wrk(server, clients, seconds, bbox):
    env = dict(os.environ, BBOX=",".join(f"{v:.6f}" for v in bbox))
    out = subprocess.run(
        ["wrk", f"-t{min(clients, 2)}", f"-c{clients}", f"-d{seconds}s", "--latency",
         "-H", "Authorization: Bearer " + server.token,
         "-s", os.path.join(HERE, "file.lua"), server.url],
        capture_output=True, text=True, env=env, check=True).stdout
    rate = float(next(l for l in out.splitlines() if "Requests/sec" in l).split()[1])
    lat = {}
    for l in out.splitlines():
        parts = l.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            v = parts[1]
            ms = float(v[:-2]) if v.endswith("ms") else (
                float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000)
            lat[parts[0]] = ms
    bad = [l for l in out.splitlines() if "Non-2xx" in l]
    if bad:
        sys.exit(f"wrk saw errors: {bad}")
    return rate, lat.get("50%"), lat.get("99%")


def measure(binary, seed, work, port, seconds):
    s = Server(binary, seed, work, port)
    try:
        rss0 = s.rss_mb()
        tj = json.loads(s.request("GET", "/tiles.json")[1])
        w, so, e, n = tj["bounds"]
        bbox = [w, so, e, n]
        cx, cy = (w + e) / 2, (so + n) / 2
        x, y = tile_of(cx, cy, 14)
        vec, heat = f"/tiles/all/14/{x}/{y}.mvt", f"/tiles/heatmap/14/{x}/{y}.png"
        report = {"lon": cx, "lat": cy, "category": "环境卫生", "description": "bench"}
        # The first write after start, then the steady ones.
        first_write = s.request("POST", "/incidents", report)[0]
        after_vec, after_heat, again_vec, again_heat = [], [], [], []
        for _ in range(5):
            s.request("POST", "/incidents", report)
            after_vec.append(s.request("GET", vec)[0])
            again_vec.append(s.request("GET", vec)[0])
            s.request("POST", "/incidents", report)
            after_heat.append(s.request("GET", heat)[0])
            again_heat.append(s.request("GET", heat)[0])
        one = wrk(s, 1, seconds, bbox)
        eight = wrk(s, 8, seconds, bbox)
        reads = [s.request("GET", f"/incidents/{i}")[0] for i in range(1, 400, 20)]
        med = statistics.median
        return {
            "startup_s": s.startup_s,
            "first_write_ms": first_write * 1000,
            "p50": one[1], "p99": one[2], "rate1": one[0], "rate8": eight[0],
            "tile_after": med(after_vec) * 1000, "tile_again": med(again_vec) * 1000,
            "heat_after": med(after_heat) * 1000, "heat_again": med(again_heat) * 1000,
            "get_ms": med(reads) * 1000,
            "rss0": rss0, "rss1": s.rss_mb(),
        }
    finally:
        s.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "gridgov"))
    ap.add_argument("--base", help="another gridgov build, measured side by side")
    ap.add_argument("--scales", nargs="+", default=["1", "10"])
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    builds = [("new", a.bin)] + ([("base", a.base)] if a.base else [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="gridgov-writes-") as work:
        port = 18300
        for scale in a.scales:
            seed = os.path.join(work, f"scale-{scale}.json")
            subprocess.run([a.bin, "sample", "--scale", scale, "--out", seed],
                           check=True, capture_output=True)
            for name, binary in builds:
                port += 1
                r = measure(binary, seed, work, port, a.seconds)
                rows.append((scale, name, r))
                print(f"scale {scale} {name}: {r}", file=sys.stderr)
    print("| scale | build | start-up | first write | POST p50 / p99 (1 client) | writes/s (1 / 8 clients) "
          "| vector tile after a write / again | heatmap tile after a write / again | GET /incidents/{id} | RSS start → after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for scale, name, r in rows:
        print(f"| {scale} | {name} | {r['startup_s']:.2f} s | {r['first_write_ms']:.1f} ms "
              f"| {r['p50']:.2f} / {r['p99']:.2f} ms | {r['rate1']:.0f} / {r['rate8']:.0f} "
              f"| {r['tile_after']:.1f} / {r['tile_again']:.1f} ms | {r['heat_after']:.1f} / {r['heat_again']:.1f} ms "
              f"| {r['get_ms']:.2f} ms | {r['rss0']:.0f} → {r['rss1']:.0f} MB |")


if __name__ == "__main__":
    main()
