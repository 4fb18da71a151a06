"""A bounded load test of ``thuisdichtbij serve`` on loopback: throughput, latency, memory.

    python benchmarks/serve_load.py                 # Maastricht: 2000 checks, 16 clients
    python benchmarks/serve_load.py --n 500 --clients 4

Scans the study, starts the server as its own process on 127.0.0.1, sends checks at the
scan's dwelling locations (and 10% nasty or out-of-area queries) from concurrent clients,
and prints requests per second, p50/p95/p99 latency, status codes and the server's resident
memory before and after. Writes ``results/serve_load.json``. Measures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
NASTY = ["lat=nan&lon=5.69", "lat=1e308&lon=1e308", "lat=52.37&lon=4.89", "lat=abc", ""]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _get(url: str) -> tuple[int, float]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        e.read()
        code = e.code
    return code, time.perf_counter() - t


def _queries(scan_path: Path, n: int, seed: int = 1) -> list[str]:
    import pyogrio

    dw = pyogrio.read_dataframe(scan_path, layer="dwellings", columns=["snapped"]).to_crs(4326)
    rng = np.random.default_rng(seed)
    pts = dw.geometry.iloc[rng.integers(0, len(dw), n)]
    out = [f"lat={p.y:.6f}&lon={p.x:.6f}" for p in pts]
    for i in range(0, n, 10):  # every tenth query is nasty or out of the study area
        out[i] = NASTY[(i // 10) % len(NASTY)]
    return out


def _wait_up(base: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if _get(base + "/api/areas")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("server did not come up")


def run(study: str, data_dir: str, n: int, clients: int) -> dict:
    from thuisdichtbij import scan

    with tempfile.TemporaryDirectory() as d:
        scan_path = scan(study, data_dir=data_dir).to_gpkg(Path(d) / "scan.gpkg")
        port = _free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cmd = [sys.executable, "-m", "thuisdichtbij.apps.cli", "serve", "--scan", str(scan_path)]
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "-q"], env=env, stdout=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_up(base, proc)
            rss_before = _rss_mb(proc.pid)
            urls = [f"{base}/api/check?{q}" for q in _queries(scan_path, n)]
            t = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                got = list(pool.map(_get, urls))
            wall = time.perf_counter() - t
            rss_after = _rss_mb(proc.pid)
            alive = _get(base + "/api/areas")[0] == 200
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    lat_ms = np.array([s for _, s in got]) * 1000
    codes = Counter(c for c, _ in got)
    return {
        "study": study,
        "requests": n,
        "clients": clients,
        "wall_s": round(wall, 2),
        "requests_per_s": round(n / wall, 1),
        "p50_ms": round(float(np.percentile(lat_ms, 50)), 1),
        "p95_ms": round(float(np.percentile(lat_ms, 95)), 1),
        "p99_ms": round(float(np.percentile(lat_ms, 99)), 1),
        "status": {str(k): v for k, v in sorted(codes.items())},
        "server_5xx": sum(v for k, v in codes.items() if k >= 500),
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
        "still_serving": alive,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--study", default="maastricht")
    p.add_argument(
        "--data-dir", default=os.environ.get("THUISDICHTBIJ_DATA", REPO.parent / "shared" / "data")
    )
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--clients", type=int, default=16)
    args = p.parse_args()
    res = run(args.study, str(args.data_dir), args.n, args.clients)
    print(json.dumps(res, indent=1))
    out = REPO / "benchmarks" / "results" / "serve_load.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
