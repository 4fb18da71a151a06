"""Benchmark of whatif and site: an incremental scenario against a full scan.

    python benchmarks/whatif.py     # Delft, Maastricht and Aachen; writes results/whatif.json

Measures and prints; asserts nothing. Targets: a whatif with one added amenity well under
a second after the scan file is read; ``site --n 3`` over 2,000+ candidates in about a
minute (Aachen: network nodes every 100 m, some 3,000 candidates).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]

#: Spacing of the default siting candidates per study: Aachen at 100 m gives 2,000+.
SPACING_M = {"delft": 50.0, "maastricht": 75.0, "aachen": 100.0}


def bench(study: str, data_dir: str, spacing_m: float) -> dict:
    from thuisdichtbij import scan
    from thuisdichtbij.analyses.siting import site
    from thuisdichtbij.analyses.whatif import Addition, Removal, load_whatif, whatif

    with tempfile.TemporaryDirectory() as d:
        scan(study, data_dir=data_dir)  # fills the network cache
        t = time.perf_counter()
        result = scan(study, data_dir=data_dir)
        scan_s = time.perf_counter() - t
        out = result.to_gpkg(Path(d) / "scan.gpkg")
        t = time.perf_counter()
        ctx = load_whatif(out)
        load_s = time.perf_counter() - t
        dw = result.dwellings[result.dwellings["snapped"]]
        add_times, add_points = [], []
        for k in range(1, 8):  # seven spots spread over the dwellings; the median is reported
            t = time.perf_counter()
            added = whatif(ctx, add=[Addition("gp", dw.geometry.iloc[k * len(dw) // 8])])
            add_times.append(time.perf_counter() - t)
            add_points.append(added.summary["dwelling_points_changed"])
        gone = str(result.amenities.loc[result.amenities["indicator"] == "gp", "source_id"].iloc[0])
        t = time.perf_counter()
        removed = whatif(ctx, remove=[Removal(gone)])
        remove_s = time.perf_counter() - t
        t = time.perf_counter()
        sites = site(ctx, indicator="gp", n=3, spacing_m=spacing_m)
        site_s = time.perf_counter() - t
    return {
        "study": study,
        "dwelling_points": len(result.dwellings),
        "full_scan_s (network cached)": round(scan_s, 2),
        "load_scan_file_s": round(load_s, 2),
        "whatif_add_s (median of 7)": round(float(np.median(add_times)), 3),
        "whatif_add_max_s": round(max(add_times), 3),
        "whatif_add_points_changed (median)": int(np.median(add_points)),
        "whatif_remove_s": round(remove_s, 3),
        "whatif_remove_points_changed": removed.summary["dwelling_points_changed"],
        "site_n3_s": round(site_s, 1),
        "site_candidates": int(sites.metadata["candidates"].split()[0]),
        "site_optimal": sites.metadata["optimal"],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("THUISDICHTBIJ_DATA", "../shared/data"))
    p.add_argument("--studies", nargs="*", default=["delft", "maastricht", "aachen"])
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "whatif.json"))
    args = p.parse_args()
    figures = {}
    for study in args.studies:
        figures[study] = bench(study, args.data_dir, SPACING_M.get(study, 100.0))
        print(json.dumps(figures[study]), flush=True)
    Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
