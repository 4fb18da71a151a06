"""The GeoPackage opens in the real client, QGIS (when it is installed: Debian's python3-qgis)."""

import json
import os
import shutil
import subprocess

import pytest

from ._synthetic import scan_with_zones

SYSTEM_PYTHON = "/usr/bin/python3"

SCRIPT = """
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
names = ["dwellings", "areas", "amenities", "network", "grid", "zones", "safety_areas",
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


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_geopackage_opens_in_qgis(tmp_path):
    out = scan_with_zones(tmp_path)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    run = subprocess.run(
        [SYSTEM_PYTHON, "-c", SCRIPT, str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    layers = json.loads(run.stdout.strip().splitlines()[-1])
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
        assert layers[name]["categories"] == classes, name
    assert layers["zones"]["renderer"] == "singleSymbol" and layers["zones"]["labels"]
    assert layers["zones"]["count"] == 3 and layers["grid"]["count"] == 4
    # no "GeoPackage 1.4 may only be partially supported" warning
    assert "partially supported" not in run.stderr
