"""Benchmark of the plot check: loading a scan once, then checks at dwelling locations.

    python benchmarks/check.py            # Maastricht and Aachen; writes results/check.json

Measures and prints; asserts nothing. Target: under 50 ms per check after loading.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def bench(study: str, data_dir: str, n: int) -> dict:
    from thuisdichtbij import scan
    from thuisdichtbij.analyses.check import check, load_check

    with tempfile.TemporaryDirectory() as d:
        result = scan(study, data_dir=data_dir)
        out = result.to_gpkg(Path(d) / "scan.gpkg")
        t = time.perf_counter()
        ctx = load_check(out)
        load_s = time.perf_counter() - t
        dw = result.dwellings[result.dwellings["snapped"]]
        pick = dw.sample(min(n, len(dw)), random_state=1).geometry.to_list()
        check(ctx, pick[0])  # first call warms caches
        out = {"load_s": round(load_s, 3), "checks": len(pick)}
        for label, reach in (("", True), ("no_reach_", False)):
            times = []
            for p in pick:
                t = time.perf_counter()
                check(ctx, p, reach=reach)
                times.append(time.perf_counter() - t)
            ms = np.array(times) * 1000
            out[f"{label}median_ms"] = round(float(np.median(ms)), 1)
            out[f"{label}p95_ms"] = round(float(np.percentile(ms, 95)), 1)
            out[f"{label}max_ms"] = round(float(ms.max()), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-n", type=int, default=200, help="checks per study")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "check.json"))
    args = ap.parse_args()
    figures = {}
    for study in ("maastricht", "aachen"):
        figures[study] = bench(study, args.data_dir, args.n)
        f = figures[study]
        print(
            f"{study}: load {f['load_s']:.2f} s; per check median {f['median_ms']} ms, "
            f"p95 {f['p95_ms']} ms, max {f['max_ms']} ms over {f['checks']} checks (target < 50); "
            f"without the reach polygons median {f['no_reach_median_ms']} ms, "
            f"p95 {f['no_reach_p95_ms']} ms"
        )
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
