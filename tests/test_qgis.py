"""The GeoPackage opens in the real client, QGIS (when it is installed: Debian's python3-qgis)."""

import json
import os
import shutil
import subprocess

import pandas as pd
import pytest

from thuisdichtbij.outputs._mapkit import NETWORK_COLOUR

from ._synthetic import scan_with_zones

# a minute or more together: the everyday suite (-m 'not slow') leaves them to CI
pytestmark = pytest.mark.slow

SYSTEM_PYTHON = "/usr/bin/python3"

SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
names = sys.argv[2].split(",") if len(sys.argv) > 2 else [
    "dwellings", "areas", "amenities", "network", "grid", "zones", "safety_areas",
    "run_metadata"]
for name in names:
    lyr = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    r = lyr.renderer() if lyr.isSpatial() else None
    cats = [c.label() for c in r.categories()] if r and r.type() == "categorizedSymbol" else []
    out[name] = {
        "valid": lyr.isValid(),
        "count": lyr.featureCount(),
        "crs": lyr.crs().authid(),
        "fields": {f.name(): f.typeName() for f in lyr.fields()},
        "renderer": r.type() if r else None,
        "colour": r.symbol().color().name() if r and r.type() == "singleSymbol" else None,
        "categories": cats,
        "labels": lyr.labelsEnabled() if lyr.isSpatial() else False,
    }
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 may crash in its own teardown; the answer is already out
"""


def _has_qgis() -> bool:
    if not shutil.which(SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    return probe.returncode == 0


def _in_qgis(script: str, *args: str):
    """Run ``script`` in QGIS's Python (Debian's, offscreen): its last line of output, as
    JSON, and what it wrote to stderr (QGIS's warnings)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", script, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1]), run.stderr


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_geopackage_opens_in_qgis(tmp_path):
    out = scan_with_zones(tmp_path)
    layers, warnings = _in_qgis(SCRIPT, str(out))
    assert all(layer["valid"] for layer in layers.values())
    assert layers["dwellings"]["count"] == 5
    assert layers["dwellings"]["crs"] == "EPSG:28992"
    assert layers["dwellings"]["fields"]["score_class"] == "Integer64"
    assert layers["dwellings"]["fields"]["snapped"] == "Boolean"
    assert layers["areas"]["fields"]["score_mean"] == "Real"
    assert layers["run_metadata"]["count"] > 10
    # the stored styles: five named classes, zones outlined and labelled
    classes = [
        "1: Sterk beneden gemiddeld",
        "2: Beneden gemiddeld",
        "3: Gemiddeld",
        "4: Boven gemiddeld",
        "5: Sterk boven gemiddeld",
    ]
    for name in ("areas", "grid", "dwellings"):
        assert layers[name]["renderer"] == "categorizedSymbol", name
        extra = ["onvoldoende gegevens", "Te weinig woningen (< 5)"] if name != "dwellings" else []
        assert layers[name]["categories"] == classes + extra, name
    assert layers["zones"]["renderer"] == "singleSymbol" and layers["zones"]["labels"]
    # the walking network in the maps' grey (without a style QGIS picks a random colour)
    assert layers["network"]["renderer"] == "singleSymbol"
    assert layers["network"]["colour"] == NETWORK_COLOUR
    # four cells with scored dwellings, and D5's (far from every street: no data)
    assert layers["zones"]["count"] == 3 and layers["grid"]["count"] == 5
    # no "GeoPackage 1.4 may only be partially supported" warning
    assert "partially supported" not in warnings
    # band-edge sensitivity, typed
    assert layers["dwellings"]["fields"]["class_robust"] == "Boolean"
    assert layers["dwellings"]["fields"]["n_near_edge"] == "Integer64"
    assert layers["areas"]["fields"]["share_not_robust"] == "Real"


#: The start of a script run in QGIS: each of areas and grid opened with its stored style,
#: its renderer started as QGIS draws (the layer's scopes, the feature set).
_EACH_STYLED_LAYER = """
import json, os, sys
from qgis.core import (QgsApplication, QgsExpressionContextUtils, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsPointXY, QgsRenderContext, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in ("areas", "grid"):
    lyr = QgsVectorLayer(sys.argv[1] + "|layername=" + name, name, "ogr")
    r = lyr.renderer()
    ctx = QgsRenderContext()
    ctx.expressionContext().appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(lyr))
    r.startRender(ctx, lyr.fields())
"""

RENDER = (
    _EACH_STYLED_LAYER
    + """
    feats = {}
    for f in lyr.getFeatures():
        ctx.expressionContext().setFeature(f)
        sym = r.symbolForFeature(f, ctx)
        feats[str(f.id())] = {
            "status": f["data_status"],
            "class": None if f["score_class"] is None or str(f["score_class"]) == "NULL"
            else int(f["score_class"]),
            "colour": sym.color().name() if sym else None,
            "layers": [s.layerType() for s in sym.symbolLayers()] if sym else [],
        }
    r.stopRender(ctx)
    out[name] = {
        "categories": [[str(c.value()), c.label(), c.symbol().color().name(),
                        [s.layerType() for s in c.symbol().symbolLayers()]]
                       for c in r.categories()],
        "features": feats,
    }
print(json.dumps(out), flush=True)
os._exit(0)
"""
)


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_insufficient_data_has_its_own_hatched_category_in_qgis(tmp_path):
    from thuisdichtbij import load_config, scan

    from ._synthetic import at, write_study

    # With streets reached within 30 m only, D4 (45 m from the main street) and a new D6
    # (60 m, weight 5, in D1's 100 m cell) are not scored: PC4 6211 loses 7 of 17 dwellings
    # and D1's cell 5 of 15, both over the 5 % limit; 6212 and the other cells keep theirs.
    study = write_study(tmp_path)
    homes = pd.read_csv(tmp_path / "woningen.csv")
    x, y = at(150, 60)
    homes.loc[len(homes)] = {"id": "D6", "x": x, "y": y, "aantal": 5}
    homes.to_csv(tmp_path / "woningen.csv", index=False)
    cfg = load_config(
        overrides={
            "aggregation": {"min_dwellings": 1},
            "snapping": {"max_snap_m": 30},
            "audit": {"max_unscored_share": 0.05},
        }
    )
    out = scan(study, data_dir=tmp_path, config=cfg).to_gpkg(tmp_path / "s.gpkg")
    layers, _ = _in_qgis(RENDER, str(out))
    for name, layer in layers.items():
        cats = layer["categories"]
        values = ["1", "2", "3", "4", "5", "onvoldoende gegevens", "suppressed"]
        assert [c[0] for c in cats] == values, name
        value, label, colour, kinds = cats[-2]
        assert label == "onvoldoende gegevens" and colour == "#969696"
        assert kinds == ["SimpleFill", "LinePatternFill"]  # grey, hatched
        feats = layer["features"].values()
        thin = [f for f in feats if f["status"] == "onvoldoende gegevens"]
        # 6211; D1's cell, and the cells of D4 and D5, whose only dwellings are not scored
        assert len(thin) == {"areas": 1, "grid": 3}[name], name
        for f in thin:
            assert f["class"] is None and f["colour"] == "#969696" and f["layers"] == kinds
        classed = [f for f in feats if f["status"] == "ok"]
        assert classed and all(f["class"] in range(1, 6) for f in classed)
        # each classed feature is drawn in its class colour, none hatched
        colours = {c[0]: c[2] for c in cats}
        assert all(f["colour"] == colours[str(f["class"])] for f in classed), name


DRAWN = (
    _EACH_STYLED_LAYER
    + """
    symbols = {}
    for f in lyr.getFeatures():
        ctx.expressionContext().setFeature(f)
        sym = r.symbolForFeature(f, ctx)
        symbols[f.id()] = [sym.color().name(), [s.layerType() for s in sym.symbolLayers()]] \
            if sym else [None, []]  # no category: not drawn
    r.stopRender(ctx)
    ms = QgsMapSettings()  # the layer as QGIS draws it, on white
    ms.setLayers([lyr]); ms.setDestinationCrs(lyr.crs()); ms.setExtent(lyr.extent())
    ms.setOutputSize(QSize(800, 800)); ms.setBackgroundColor(QColor("white"))
    job = QgsMapRendererSequentialJob(ms)
    job.start()
    job.waitForFinished()
    img = job.renderedImage()
    img.save(sys.argv[2] + "-" + name + ".png", "PNG")
    feats = []  # in the order of their ids, as GeoPandas reads them
    for f in lyr.getFeatures():
        p = f.geometry().pointOnSurface().asPoint()
        px = ms.mapToPixel().transform(QgsPointXY(p.x(), p.y()))
        feats.append(symbols[f.id()] + [QColor(img.pixel(int(px.x()), int(px.y()))).name()])
    out[name] = {"categories": [[str(c.value()), c.label(), c.symbol().color().name()]
                                for c in r.categories()], "features": feats}
print(json.dumps(out), flush=True)
os._exit(0)
"""
)


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_too_few_dwellings_is_drawn_light_grey_in_qgis_as_on_the_maps(tmp_path):
    from collections import Counter

    import geopandas as gpd

    from thuisdichtbij import load_config, scan
    from thuisdichtbij.outputs._mapkit import (
        INSUFFICIENT_COLOUR,
        SUPPRESSED,
        area_states,
        state_fill,
        text,
    )

    from ._synthetic import write_study

    # With 8 dwellings needed: PC4 6212 (7) is suppressed, 6211 has too little data; of the
    # cells D1's (10) is classed, D2's, D3's and D4's are suppressed, and D5's (its one
    # dwelling not scored) both suppressed and without data: insufficient data wins there,
    # as on the maps (area_states). QGIS drew the suppressed ones not at all (no category).
    study = write_study(tmp_path)
    cfg = load_config(overrides={"aggregation": {"min_dwellings": 8}})
    out = scan(study, data_dir=tmp_path, config=cfg).to_gpkg(tmp_path / "s.gpkg")
    layers, _ = _in_qgis(DRAWN, str(out), str(tmp_path / "qgis"))
    hatched = ["SimpleFill", "LinePatternFill"]
    want = {
        "areas": {"insufficient": 1, "suppressed": 1},
        "grid": {"class": 1, "suppressed": 3, "insufficient": 1},
    }
    for name, layer in layers.items():
        assert layer["categories"][-1] == ["suppressed", text("nl")["suppressed"], SUPPRESSED]
        frame = gpd.read_file(out, layer=name)
        states = area_states(frame)
        kinds_of = Counter(s if isinstance(s, str) else "class" for s in states)
        assert kinds_of == want[name], name
        for (colour, kinds, pixel), state in zip(layer["features"], states, strict=True):
            if state == "insufficient":  # grey, hatched: the hatch's lines at the centre
                assert [colour, kinds] == [INSUFFICIENT_COLOUR, hatched], name
            else:  # in the maps' colour: light grey for too few dwellings, drawn
                fill = state_fill(state)
                assert [colour, kinds, pixel] == [fill, ["SimpleFill"], fill], name
    grid = gpd.read_file(out, layer="grid")
    assert grid["suppressed"].iloc[area_states(grid).index("insufficient")]


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_diff_geopackage_opens_in_qgis(tmp_path):
    from thuisdichtbij import load_config, scan
    from thuisdichtbij.apps.cli import main

    from ._synthetic import write_study

    study = write_study(tmp_path)
    old = scan(study, data_dir=tmp_path).to_gpkg(tmp_path / "old.gpkg")
    cfg = load_config(overrides={"weights": {"gp": 3}})
    new = scan(study, data_dir=tmp_path, config=cfg).to_gpkg(tmp_path / "new.gpkg")
    assert main(["diff", str(old), str(new), "--out", str(tmp_path / "d.gpkg")]) == 0
    names = "diff_areas,diff_dwellings,diff_amenities,diff_runs"
    layers, warnings = _in_qgis(SCRIPT, str(tmp_path / "d.gpkg"), names)
    assert all(layer["valid"] for layer in layers.values())
    for name in ("diff_areas", "diff_dwellings"):
        assert layers[name]["renderer"] == "categorizedSymbol", name
        assert layers[name]["categories"] == ["-4", "-3", "-2", "-1", "+0", "+1", "+2", "+3", "+4"]
    fields = layers["diff_dwellings"]["fields"]
    assert fields["class_change"] == "Integer64" and fields["score_change"] == "Real"
    assert fields["cause"] == "String"
    assert layers["diff_runs"]["count"] >= 1
    assert "partially supported" not in warnings


RASTER = """
import json, os, sys
from qgis.core import (QgsApplication, QgsLayerNotesUtils, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsRasterLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
lyr = QgsRasterLayer(sys.argv[1], "grid", "gdal")  # as QGIS opens a file: its default style
r = lyr.renderer()
out = {"valid": lyr.isValid(), "renderer": r.type(), "bands": r.usesBands(),
       "classes": [[c.value, c.label, c.color.name()] for c in r.classes()]
       if r.type() == "paletted" else [],
       "notes": QgsLayerNotesUtils.layerNotes(lyr)}
ms = QgsMapSettings()  # one pixel per cell, on a transparent background
ms.setLayers([lyr]); ms.setDestinationCrs(lyr.crs()); ms.setExtent(lyr.extent())
ms.setOutputSize(QSize(lyr.width(), lyr.height()))
ms.setBackgroundColor(QColor(0, 0, 0, 0))
job = QgsMapRendererSequentialJob(ms)
job.start()
job.waitForFinished()
img = job.renderedImage()
out["pixels"] = [[QColor.fromRgba(img.pixel(c, row)).name(QColor.HexArgb)
                  for c in range(img.width())] for row in range(img.height())]
print(json.dumps(out), flush=True)
os._exit(0)
"""


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_geotiff_opens_in_qgis_as_the_class_map(tmp_path):
    import rasterio

    from thuisdichtbij.engine.score import CLASS_LABELS_EN
    from thuisdichtbij.outputs._mapkit import CLASS_COLOURS
    from thuisdichtbij.outputs.raster import grid_tif

    # without a style QGIS 3.22 draws a 3-band raster as an RGB composite of all three
    tif = grid_tif(scan_with_zones(tmp_path), tmp_path / "grid.tif", lang="en")
    got, _ = _in_qgis(RASTER, str(tif))
    assert got["valid"] and got["renderer"] == "paletted" and got["bands"] == [2]
    assert got["classes"] == [
        [k, f"{k}: {CLASS_LABELS_EN[k]}", c] for k, c in CLASS_COLOURS.items()
    ]
    assert "band 3 (data_status)" in got["notes"] and "insufficient data" in got["notes"]
    # each cell drawn in its class colour, opaque; cells without a class transparent
    with rasterio.open(tif) as r:
        klass = r.read(2)
    want = [
        ["#00000000" if v == -9999 else "#ff" + CLASS_COLOURS[int(v)][1:] for v in row]
        for row in klass
    ]
    assert got["pixels"] == want
    assert sum(v != -9999 for v in klass.ravel()) >= 3


FAIRSHARE = """
import json, os, sys
from qgis.core import (QgsApplication, QgsExpressionContextUtils, QgsMapRendererSequentialJob,
                       QgsMapSettings, QgsPointXY, QgsRenderContext, QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
lyr = QgsVectorLayer(sys.argv[1] + "|layername=fairshare", "fairshare", "ogr")
r = lyr.renderer()
out = {"valid": lyr.isValid(), "renderer": r.type(), "attr": r.classAttribute(),
       "categories": [[str(c.value()), c.label(), c.symbol().color().name(),
                       [s.layerType() for s in c.symbol().symbolLayers()]]
                      for c in r.categories()]}
ctx = QgsRenderContext()
ctx.expressionContext().appendScopes(QgsExpressionContextUtils.globalProjectLayerScopes(lyr))
r.startRender(ctx, lyr.fields())
out["features"] = {}
for f in lyr.getFeatures():
    ctx.expressionContext().setFeature(f)
    sym = r.symbolForFeature(f, ctx)
    out["features"][f["area_id"]] = sym.color().name() if sym else None
r.stopRender(ctx)
ms = QgsMapSettings()  # the map as QGIS draws it, into a PNG
ms.setLayers([lyr]); ms.setDestinationCrs(lyr.crs()); ms.setExtent(lyr.extent())
ms.setOutputSize(QSize(600, 200)); ms.setBackgroundColor(QColor("white"))
job = QgsMapRendererSequentialJob(ms)
job.start()
job.waitForFinished()
img = job.renderedImage()
img.save(sys.argv[2], "PNG")
out["pixels"] = {}  # the colour drawn at each area's centre
for f in lyr.getFeatures():
    c = f.geometry().centroid().asPoint()
    px = ms.mapToPixel().transform(QgsPointXY(c.x(), c.y()))
    out["pixels"][f["area_id"]] = QColor(img.pixel(int(px.x()), int(px.y()))).name()
print(json.dumps(out), flush=True)
os._exit(0)
"""


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_fairshare_layer_opens_in_qgis_in_the_maps_colours(tmp_path):
    import geopandas as gpd
    import numpy as np
    from shapely.geometry import box

    from thuisdichtbij import load_config
    from thuisdichtbij.analyses.fairshare import FairshareResult, mark_vulnerable
    from thuisdichtbij.outputs._mapkit import FAIRSHARE_STYLE

    # three areas side by side, one per verdict against the national reference (0): both
    # scores below it (vulnerable); SES-WOA above it (not); SES-WOA missing, the other
    # below (unknown)
    ses, lbm = pd.Series([-0.2, 0.1, np.nan]), pd.Series([-0.1, -0.1, -0.1])
    hh = pd.Series([100.0] * 3)
    flag, reason, *_ = mark_vulnerable(ses, lbm, hh, load_config().fairshare, lang="en")
    assert [None if pd.isna(v) else bool(v) for v in flag] == [True, False, None]
    areas = gpd.GeoDataFrame(
        {
            "area_id": ["6411", "6412", "6413"],
            "municipality": ["Heerlen"] * 3,
            "ses_woa": ses,
            "lbm_afw": lbm,
            "households": hh,
            "vulnerable": flag,
            "reason": reason,
        },
        geometry=[box(190_000 + i * 1000, 320_000, 190_900 + i * 1000, 320_900) for i in range(3)],
        crs="EPSG:28992",
    )
    summary = pd.DataFrame({"municipality": ["Heerlen"], "areas": [3]})
    out = FairshareResult(areas, summary, {"study": "paper"}, lang="en").to_gpkg(
        tmp_path / "fs.gpkg"
    )
    got, _ = _in_qgis(FAIRSHARE, str(out), str(tmp_path / "fs.png"))
    assert got["valid"] and got["renderer"] == "categorizedSymbol"
    assert '"vulnerable"' in got["attr"]
    # the three states, in the static map's words (--lang), fills and hatch
    cats = got["categories"]
    hatched = ["SimpleFill", "LinePatternFill"]
    assert [c[1:] for c in cats] == [
        [st["label"]["en"], st["fill"], hatched if st["hatch"] else hatched[:1]]
        for st in FAIRSHARE_STYLE.values()
    ]
    assert len({c[0] for c in cats}) == 3
    # each area drawn in its verdict's colour; the unhatched ones so at their centre
    fills = [FAIRSHARE_STYLE[s]["fill"] for s in (True, False, None)]
    assert got["features"] == dict(zip(areas["area_id"], fills, strict=True))
    assert [got["pixels"][a] for a in ("6412", "6413")] == fills[1:]
    assert (tmp_path / "fs.png").stat().st_size > 0
