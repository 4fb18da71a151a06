"""Scatter plots of a validation: our walking distance against CBS's, per sub-indicator.

Optional (``pip install 'thuisdichtbij[maps]'``); matplotlib is imported only when plotting.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ._mapkit import atomic_write

__all__ = ["validation_scatter"]


def validation_scatter(table: pd.DataFrame, folder: str | os.PathLike) -> list[Path]:
    """One PNG per sub-indicator (``validation_<id>.png``): ours (y) against CBS (x) in km.

    The line y = x and y = 2x are drawn; flagged buurten are red and labelled with their code.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for ind, t in table.groupby("indicator", sort=False):
        fig, ax = plt.subplots(figsize=(6, 6))
        top = float(max(t["ours_km"].max(), t["cbs_km"].max(), 0.5)) * 1.05
        ax.plot([0, top], [0, top], color="#888888", lw=1, label="gelijk")
        ax.plot([0, top / 2], [0, top], color="#d7191c", lw=0.8, ls="--", label="2 x CBS")
        ok = t[~t["flagged"]]
        bad = t[t["flagged"]]
        ax.scatter(ok["cbs_km"], ok["ours_km"], s=14, color="#2c7bb6", label="buurt")
        ax.scatter(bad["cbs_km"], bad["ours_km"], s=18, color="#d7191c", label="gemarkeerd")
        for _, r in bad.iterrows():
            xy = (r["cbs_km"], r["ours_km"])
            ax.annotate(r["buurt_code"], xy, fontsize=6, xytext=(3, 2), textcoords="offset points")
        ax.set(
            xlim=(0, top),
            ylim=(0, top),
            xlabel="CBS: gemiddelde afstand over de weg (km)",
            ylabel="thuisdichtbij: gemiddelde loopafstand (km)",
            title=f"{ind}: {len(t)} buurten",
        )
        ax.legend(loc="upper left", fontsize=8)
        path = out_dir / f"validation_{ind}.png"
        written.append(atomic_write(path, lambda p, f=fig: f.savefig(p, dpi=120, format="png")))
        plt.close(fig)
    return written
