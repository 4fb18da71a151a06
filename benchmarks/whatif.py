"""Benchmark of whatif and site: an incremental scenario against a full scan.

    python benchmarks/whatif.py            # Delft, Maastricht and Aachen

Measures and prints; asserts nothing. Targets: a whatif with one added amenity well under
a second after the scan file is read; ``site --n 3`` over 2,000+ candidates in about a
minute.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def bench(study: str, data_dir: str, spacing_m: float) -> dict:
    from thuisdichtbij import scan
    from thuisdichtbij.analyses.siting import site
    from thuisdichtbij.analyses.whatif import Removal, load_whatif, whatif

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
        spot = dw.geometry.iloc[len(dw) // 2]
        from thuisdichtbij.analyses.whatif import Addition

        t = time.perf_counter()
        added = whatif(ctx, add=[Addition("gp", spot)])
        add_s = time.perf_counter() - t
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
        "whatif_add_s": round(add_s, 3),
        "whatif_add_points_changed": added.summary["dwelling_points_changed"],
        "whatif_remove_s": round(remove_s, 3),
        "whatif_remove_points_changed": removed.summary["dwelling_points_changed"],
        "site_n3_s": round(site_s, 1),
        "site_candidates": sites.metadata["candidates"],
        "site_optimal": sites.metadata["optimal"],
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", default=os.environ.get("THUISDICHTBIJ_DATA", "../shared/data"))
    p.add_argument("--studies", nargs="*", default=["delft", "maastricht", "aachen"])
    args = p.parse_args()
    spacing = {"delft": 50.0, "maastricht": 75.0, "aachen": 150.0}
    for study in args.studies:
        print(json.dumps(bench(study, args.data_dir, spacing.get(study, 100.0))), flush=True)


if __name__ == "__main__":
    main()
