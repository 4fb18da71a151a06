"""What the commands print, in Dutch and English: one catalogue for every console summary.

Every subcommand has ``--lang {nl,en}`` (default ``nl``) and prints its summary with
:func:`say`. Column names in printed tables stay the GeoPackage's field names (they are
data); sentences, headings and labels come from here.
"""

from __future__ import annotations

from .._text import words

__all__ = ["CONSOLE", "say"]

CONSOLE = {
    "nl": {
        # every command
        "wrote": "geschreven: {what}",
        "tif_and_style": "{tif} en ernaast de QGIS-stijl {qml}",
        # scan and fetch
        "scan_wrote": "{out} geschreven in {s} s",
        "scan_dwellings": "  woningen: {n} in {p} punt(en), {u} punt(en) niet gescoord (verder "
        "dan de snapgrens van een straat)",
        "scan_score": "  score: gemiddeld {mean} per woning (van {max}); woningen per klasse: "
        "{classes}",
        "scan_areas": "  gebieden: {n} ({source}), {s} afgeschermd (te weinig woningen)",
        "scan_areas_gap": ", {g} zonder klasse (onvoldoende gegevens)",
        "scan_areas_few": "; de klassen zetten maar {k} gebied(en) tegen elkaar af: weinig zeggend",
        "scan_squares": "vierkanten van {m} m, geen gebiedsgrenzen opgegeven",
        "scan_partial": "WAARSCHUWING: de gegevens (het wegennet) bedekken {pct} % van het "
        "studiegebied; gebieden die voor minder dan de helft binnen de gegevens liggen krijgen "
        "geen klasse, die aan de rand zijn gemiddeld over de weinige woningen daar.",
        "scan_network": "  netwerk: {net.n_nodes} knopen, {net.n_edges} verbindingen, "
        "{km} km ({crs})",
        "fetch_wrote": "{path} geschreven; scan de studie met: thuisdichtbij scan --study {path} "
        "--out <bestand>.gpkg",
        # tiles and scan-national
        "tiles_wrote": "{n} tegels van {tile_m:g} m (rand {halo_m:g} m) geschreven naar {path} "
        "in {s} s",
        "national_done": "{n} woningen in {tiles} tegels, {m} gemeente(n), in {s} s",
        "national_wrote": "{dw} (GeoParquet per gemeente) en {gpkg} (een GeoPackage per "
        "gemeente) geschreven",
        "national_outside": "{n} woningen liggen in geen enkele gemeente en staan in geen uitvoer",
        "national_partial": "WAARSCHUWING: de gegevens (het wegennet van de extract) bedekken "
        "{n} gemeente(n) maar ten dele: {names}; hun gebieden aan de rand van de gegevens "
        "zijn gemiddeld over de weinige woningen daar (run_metadata data_coverage).",
        "national_gaps": "WAARSCHUWING: dunne of ontbrekende invoer in {n} gemeente(n): {names}; "
        "de laag audit in hun GeoPackage zegt welke. Lees lage scores daar als een gat in de "
        "gegevens, niet als een feit over de buurt.",
        # fairshare and demand
        "fs_head": "fair share (referentie {ref}: SES-WOA {ses}, Leefbaarometer {lbm})",
        "fs_national": "landelijk",
        "fs_region": "regio",
        "fs_years": "jaren: {years} (jaren verschillen: {mismatch})",
        "yes": "ja",
        "no": "nee",
        "demand_head": "65-plussers per klasse van hun gebied ({points}):",
        "demand_low": "in gebieden van klasse 1-2: {n} 65-plussers",
        "demand_unknown": "PC6 met onbekend aantal 65-plussers (pc6_unknown): {n} ({masked} "
        "afgeschermd in de CBS-tabel, {missing} er niet in); CBS-postcodes zonder punt: {free} "
        "({lost} 65-plussers niet geplaatst)",
        "added": "{layers} toegevoegd aan {scan}",
        "pts_inside": "(een punt binnen elk vlak)",
        # zones
        "zones_head": "{n} woonzorgzone(s) ({rule}):",
        "zone_line": "  {id} {name}: {cells} cellen, {dwellings} woningen, gemiddelde score {mean}",
        "zone_65": ", {n:.0f} 65-plussers",
        "zones_wrote": "laag {layer} geschreven naar {scan}",
        "compare_wrote": "tabel zone_comparison geschreven naar {scan}",
        # validate and diff
        "validate_added": "validatietabellen toegevoegd aan {scan}",
        # whatif and site
        "edit_add": "erbij",
        "edit_remove": "weg",
        "wi_dwellings": "woningen die vooruitgaan: {gain}, achteruitgaan: {lose}; een klasse "
        "hoger: {up}, lager: {down}",
        "wi_65": "65-plussers die vooruitgaan: {gain}, achteruitgaan: {lose}",
        "wi_classes": "klassen op de klassegrenzen van de basisscan (een relatieve klasse zou "
        "voor iedereen verschuiven)",
        "site_head": "{n} nieuwe locatie(s) voor {indicator} uit {candidates} kandidaten "
        "(optimaal: {optimal}; gewogen naar: {weight}):",
        "site_dwellings": "woningen",
        "site_65plus": "65-plussers",
        "site_layer": "laag {layer} in {scan}",
        "serving": "thuisdichtbij: {scan} staat op http://{host}:{port} (Ctrl-C stopt)",
        # check
        "at": "Locatie",
        "street": "m van de straat",
        "area": "gebied",
        "score": "Score",
        "of": "van",
        "class": "klasse",
        "lower": "van de woningen in de scan scoort lager",
        "head": ("subindicator", "dichtstbijzijnde", "loopafstand", "punten"),
        "none": "niets binnen bereik",
        "safety": "veiligheid (Leefbaarometer)",
        "missing": "geen gegevens",
        "near": "Net buiten een nauwere afstandsband",
        "edge": "ligt op {d:.0f} m: binnen {gap:.0f} m van de {edge} m-grens",
        "range": "Binnen {tol} m karteerfout: score {lo} tot {hi}, klasse {clo} tot {chi}",
        "gain": "punten erbij bij",
        "class_then": "dan klasse",
        "zone_in": "In woonzorgzone",
        "zone_out": "Niet in een woonzorgzone; dichtstbijzijnde op",
        "zone_none": "Woonzorgzones: niet in deze scan (maak ze met thuisdichtbij zones)",
        "fair": "Fair share",
        "data": "Let op, invoergegevens",
        "thin": "gegevens dun",
    },
    "en": {
        # every command
        "wrote": "wrote {what}",
        "tif_and_style": "{tif} and beside it the QGIS style {qml}",
        # scan and fetch
        "scan_wrote": "wrote {out} in {s} s",
        "scan_dwellings": "  dwellings: {n} in {p} point(s), {u} point(s) not scored (beyond "
        "the snap limit)",
        "scan_score": "  score: mean {mean} per dwelling (of {max}); dwellings per class: "
        "{classes}",
        "scan_areas": "  areas: {n} ({source}), {s} suppressed",
        "scan_areas_gap": ", {g} without a class (too little data)",
        "scan_areas_few": "; the classes set only {k} area(s) against each other: of little "
        "meaning",
        "scan_squares": "squares of {m} m, no area polygons given",
        "scan_partial": "WARNING: the data (the street network) covers {pct} % of the study "
        "area; areas less than half within the data get no class, those at its edge are "
        "averaged over the few dwellings there.",
        "scan_network": "  network: {net.n_nodes} nodes, {net.n_edges} edges, {km} km ({crs})",
        "fetch_wrote": "wrote {path}; scan it with: thuisdichtbij scan --study {path} "
        "--out <file>.gpkg",
        # tiles and scan-national
        "tiles_wrote": "wrote {n} tiles of {tile_m:g} m (halo {halo_m:g} m) to {path} in {s} s",
        "national_done": "{n} dwellings in {tiles} tiles, {m} municipalities, in {s} s",
        "national_wrote": "wrote {dw} (GeoParquet per municipality) and {gpkg} (a GeoPackage "
        "per municipality)",
        "national_outside": "{n} dwellings lie in no municipality and are in no output",
        "national_partial": "WARNING: the data (the extract's street network) covers {n} "
        "municipalities only in part: {names}; their areas at the data's edge are averaged "
        "over the few dwellings there (run_metadata data_coverage).",
        "national_gaps": "WARNING: thin or missing input in {n} municipalities: {names}; the "
        "layer audit in their GeoPackage says which. Treat low scores there as a data gap, "
        "not as a fact about the neighbourhood.",
        # fairshare and demand
        "fs_head": "fair share ({ref} reference: SES-WOA {ses}, Leefbaarometer {lbm})",
        "fs_national": "national",
        "fs_region": "region",
        "fs_years": "years: {years} (mismatch: {mismatch})",
        "yes": "yes",
        "no": "no",
        "demand_head": "residents of 65 and older per area class ({points}):",
        "demand_low": "in class 1-2 areas: {n} residents of 65+",
        "demand_unknown": "PC6 with unknown 65+ (pc6_unknown): {n} ({masked} masked in the CBS "
        "table, {missing} not in it); CBS postcodes without a point: {free} ({lost} residents "
        "of 65+ not placed)",
        "added": "added {layers} to {scan}",
        "pts_inside": "(a point inside each polygon)",
        # zones
        "zones_head": "{n} housing-with-care zone(s) (woonzorgzones; {rule}):",
        "zone_line": "  {id} {name}: {cells} cells, {dwellings} dwellings, mean score {mean}",
        "zone_65": ", {n:.0f} residents 65+",
        "zones_wrote": "wrote layer {layer} to {scan}",
        "compare_wrote": "wrote table zone_comparison to {scan}",
        # validate and diff
        "validate_added": "added validation tables to {scan}",
        # whatif and site
        "edit_add": "add",
        "edit_remove": "remove",
        "wi_dwellings": "dwellings gaining: {gain}, losing: {lose}; class up: {up}, down: {down}",
        "wi_65": "residents of 65+ gaining: {gain}, losing: {lose}",
        "wi_classes": "classes on the base run's class edges (a relative class would shift for "
        "everyone)",
        "site_head": "{n} new {indicator} site(s) from {candidates} candidates (optimal: "
        "{optimal}; weight: {weight}):",
        "site_dwellings": "dwellings",
        "site_65plus": "residents of 65+",
        "site_layer": "layer {layer} in {scan}",
        "serving": "thuisdichtbij: serving {scan} on http://{host}:{port} (Ctrl-C stops)",
        # check
        "at": "Location",
        "street": "m from the street",
        "area": "area",
        "score": "Score",
        "of": "of",
        "class": "class",
        "lower": "of the scan's dwellings score lower",
        "head": ("sub-indicator", "nearest", "walk", "points"),
        "none": "nothing within reach",
        "safety": "safety (Leefbaarometer)",
        "missing": "no data",
        "near": "Just beyond a nearer band",
        "edge": "is at {d:.0f} m: within {gap:.0f} m of the {edge} m edge",
        "range": "Within {tol} m of mapping error: score {lo} to {hi}, class {clo} to {chi}",
        "gain": "points more within",
        "class_then": "then class",
        "zone_in": "In housing-with-care zone",
        "zone_out": "Not in a housing-with-care zone; nearest at",
        "zone_none": "Housing-with-care zones: not in this scan",
        "fair": "Fair share",
        "data": "Mind the input data",
        "thin": "thin data",
    },
}


def say(lang: str) -> dict:
    """The console catalogue in ``lang``: ``say(lang)["wrote"].format(what=...)``."""
    return words(CONSOLE, lang, what="--lang")
