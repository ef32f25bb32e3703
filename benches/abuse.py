#!/usr/bin/env python3
"""Availability under abuse, full size: what one careless or hostile client
can do to a running `gridgov serve` on the sample district, and what
everybody else sees meanwhile.

1. 20,000 TCP connections from one address, each sending one header line
   and nothing more: how many the server keeps, how fast it refuses the
   rest, and /health from another address meanwhile; after the header
   time limit, how many are still open.
2. Two drafts of 100,000 vertices at once (the largest allowed): how long
   each takes to create and validate, and the slowest /health meanwhile.
3. Six 10 MB batch lookups at once: the server's peak resident memory.
4. An abandoned costly hot-spot question: CPU used after the client left.

    cargo build --release
    python3 benches/abuse.py [--binary target/release/gridgov]

Raises its own open-file limit; needs ports from 18400 free. Prints a
Markdown table of the figures.
"""

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class Server:
    def __init__(self, binary, work, port, extra=()):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        db = os.path.join(work, f"{port}.gpkg")
        seed = os.path.join(REPO, "data", "sample-district.json")
        self.proc = subprocess.Popen(
            [binary, "serve", "--db", db, "--seed", seed, "--addr",
             f"127.0.0.1:{port}", "--rate-limit", "0", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1).read()
                break
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"serve exited with {self.proc.returncode}")
                time.sleep(0.1)
        out = subprocess.run([binary, "tokens", "issue", "admin", "--db", db,
                              "--seed", seed], capture_output=True, text=True)
        if out.returncode != 0:
            self.stop()
            sys.exit(f"tokens issue: {out.stderr}")
        self.token = out.stdout.strip().split()[-1]

    def req(self, method, path, body=None, ctype="application/json",
            timeout=600):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        r = urllib.request.Request(self.url + path, method=method, data=data)
        r.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            r.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(r, timeout=timeout) as f:
                return f.status, f.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def health_from(src, port):
    t = time.time()
    s = socket.socket()
    s.settimeout(30)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    line = s.recv(64).split(b"\r\n")[0]
    s.close()
    return line, (time.time() - t) * 1000


def idle_connections(srv, n):
    socks, refused = [], 0
    t = time.time()
    for _ in range(n):
        s = socket.socket()
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /health HTTP/1.1\r\n")
        socks.append(s)
    opened = time.time() - t
    _, health_ms = health_from("127.0.0.2", srv.port)
    time.sleep(0.5)
    for s in socks:
        s.setblocking(False)
        try:
            d = s.recv(16)
            if d.startswith(b"HTTP/1.1 429") or d == b"":
                refused += 1
        except BlockingIOError:
            pass
    time.sleep(17)
    still = 0
    for s in socks:
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
        except BlockingIOError:
            still += 1
        except OSError:
            pass
        s.close()
    return {"opened_s": opened, "refused": refused, "health_ms": health_ms,
            "open_after_timeout": still}


def ring(n):
    cx, cy = 117.5260, 34.8660
    pts = []
    for i in range(n):
        a = 2 * math.pi * i / n
        r = 1 + 0.01 * math.sin(i * 0.1)
        pts.append([cx + 0.002 * r * math.cos(a), cy + 0.0016 * r * math.sin(a)])
    pts.append(pts[0])
    return pts


def big_drafts(srv, n, k):
    body = {"reason": "big", "changes": [{"code": "370402005001001",
            "geometry": {"type": "Polygon", "coordinates": [ring(n)]}}]}
    out = []

    def one():
        t = time.time()
        st, b = srv.req("POST", "/drafts", body)
        if st != 201:
            out.append((st, time.time() - t))
            return
        i = json.loads(b)["id"]
        st, _ = srv.req("GET", f"/drafts/{i}/validate")
        out.append((st, time.time() - t))

    ts = [threading.Thread(target=one) for _ in range(k)]
    for t in ts:
        t.start()
    worst = 0.0
    while any(t.is_alive() for t in ts):
        _, ms = health_from("127.0.0.2", srv.port)
        worst = max(worst, ms)
        time.sleep(0.1)
    return out, worst


def batches(srv, k, size):
    feats = []
    i = 0
    while True:
        f = {"type": "Feature", "id": i, "properties": {"note": "x" * 40},
             "geometry": {"type": "Point", "coordinates": [117.52 + (i % 997) * 1e-5, 34.86 + (i % 991) * 1e-5]}}
        feats.append(f)
        i += 1
        if i % 1000 == 0 and len(json.dumps({"features": feats})) > size:
            break
    body = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    before = srv.rss_mb()
    out = []
    ts = [threading.Thread(target=lambda: out.append(srv.req("POST", "/lookup/batch", body, "application/geo+json")[0])) for _ in range(k)]
    peak = [before]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], srv.rss_mb())
            time.sleep(0.02)

    w = threading.Thread(target=watch)
    w.start()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    done.set()
    w.join()
    return {"points": len(feats), "mb": len(body) / 1e6, "statuses": out,
            "rss_before": before, "rss_peak": peak[0]}


def abandoned_hotspots(srv):
    s = socket.socket()
    s.connect(("127.0.0.1", srv.port))
    s.sendall(("GET /hotspots?period=2026-11&method=lattice&cell_m=150&permutations=99999&weeks=8 HTTP/1.1\r\n"
               f"Host: x\r\nAuthorization: Bearer {srv.token}\r\n\r\n").encode())
    c0 = srv.cpu_s()
    time.sleep(1)
    busy = srv.cpu_s() - c0
    s.close()
    time.sleep(1)
    c1 = srv.cpu_s()
    time.sleep(2)
    return busy, srv.cpu_s() - c1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, "target", "release", "gridgov"))
    ap.add_argument("--connections", type=int, default=20_000)
    ap.add_argument("--vertices", type=int, default=99_990)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # The client needs files of its own besides the connections.
    args.connections = min(args.connections, hard - 300)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        srv = Server(args.binary, work, 18400)
        c = idle_connections(srv, args.connections)
        rows.append((f"{args.connections:,} idle connections from one address",
                     f"opened in {c['opened_s']:.1f} s; {c['refused']:,} refused at once; "
                     f"/health from another address {c['health_ms']:.1f} ms; "
                     f"{c['open_after_timeout']} still open after the header time limit"))
        out, worst = big_drafts(srv, args.vertices, 2)
        rows.append((f"two {args.vertices:,}-vertex drafts at once (create + validate)",
                     ", ".join(f"{st} in {t:.2f} s" for st, t in out) + f"; slowest /health {worst:.1f} ms"))
        b = batches(srv, 6, 10_000_000)
        rows.append((f"six {b['mb']:.1f} MB batch lookups at once ({b['points']:,} points each)",
                     f"statuses {sorted(b['statuses'])}; RSS {b['rss_before']:.0f} → peak {b['rss_peak']:.0f} MB"))
        busy, after = abandoned_hotspots(srv)
        rows.append(("costly hot-spot question abandoned after 1 s",
                     f"{busy:.2f} s CPU in its first second; {after:.2f} s CPU in the 2 s after the client left"))
        srv.stop()
    print("| what | measured |\n|---|---|")
    for w, m in rows:
        print(f"| {w} | {m} |")


if __name__ == "__main__":
    main()
