"""Default QGIS styles inside ``villages.gpkg`` for every layer, with field aliases.

QGIS reads a layer's default style from the GeoPackage's ``layer_styles`` table (the
table QGIS itself writes with "Save as default"), so the layers open coloured as on the
map, with legend labels in the run's language: villages by gap class, communes by gap
share, coverage points by technology, plan sites by works (satellite access points apart,
a lower service level), fibre routes, roads, power lines, towns and
commune centres, roll-out clusters. The colours are the map's
(:data:`geo_dx.schema.GAP_COLOURS`, :data:`geo_dx.schema.SHARE_BINS` /
:data:`~geo_dx.schema.SHARE_COLOURS`, :data:`geo_dx.maps.payload.TECH_STYLE`). Every field
known to geo_dx gets an alias in the run's language (the attribute table shows "Dịch vụ
còn thiếu" for ``gap_class``), the field names themselves stay English for scripts.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from xml.sax.saxutils import quoteattr

from geo_dx.i18n import COLUMN_LABELS, DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.maps.payload import TECH_STYLE
from geo_dx.maps.plan_layer import ACCESS_COLOUR
from geo_dx.schema import GAP_CLASSES, GAP_COLOURS, SHARE_BINS, SHARE_COLOURS

__all__ = ["communes_qml", "field_aliases", "layer_qml", "villages_qml", "write_layer_styles"]

#: Aliases of the fields not in geo_dx.i18n.COLUMN_LABELS (layers other than the villages').
FIELD_ALIASES: dict[str, str] = {
    "site_id": N_("Site code"),
    "node_id": N_("Fibre point code"),
    "technology": N_("Technology"),
    "operator": N_("Operator"),
    "source": N_("Source"),
    "antenna_height_m": N_("Antenna height (m)"),
    "range_m": N_("Declared range (m)"),
    "reach_m": N_("Range used (m)"),
    "file": N_("File"),
    "name": N_("Name"),
    "road_id": N_("Road code"),
    "village_ids": N_("Village codes"),
    "best_rank": N_("Best rank in the cluster"),
    "mean_score": N_("Mean priority score"),
    "no_fibre_no_mobile": N_("No fibre, no mobile broadband"),
    "no_mobile": N_("No mobile broadband"),
    "no_fibre": N_("No fibre"),
    "planned_by": N_("Item in the plan"),
    "location_issue": N_("Location to check"),
    "province": N_("Province"),
}
#: Layer descriptions in the layer_styles table, and each layer's legend title.
DESCRIPTIONS: dict[str, str] = {
    "villages": N_("Villages by gap"),
    "communes": N_("Share of villages with a gap"),
    "coverage": N_("Mobile sites and fibre points by technology"),
    "plan_sites": N_("Proposed sites by works"),
    "plan_fibre": N_("Proposed fibre routes"),
    "roads": N_("Roads"),
    "power_lines": N_("Power lines"),
    "towns": N_("Towns and commune seats"),
    "clusters": N_("Roll-out clusters"),
}
#: Towns by kind, as the map names them.
TOWN_KINDS: dict[str, str] = {
    "capital": N_("Provincial centre"),
    "commune_seat": N_("Commune or ward centre"),
}
_SITE_COLOUR, _FIBRE_COLOUR = "#0b3d91", "#1b9e77"

_HEADER = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_OUTLINE = "35,35,35,255"


def villages_qml(tr: Translator, *, geometry: str = "Point") -> str:
    """
    QML of the villages layer: categories by ``gap_class`` with the map's colours.

    Examples
    --------
    >>> qml = villages_qml(translator("vi"))
    >>> 'attr="gap_class"' in qml and 'label="Chưa có cáp quang"' in qml
    True
    """
    kind = "fill" if "Polygon" in geometry else "marker"
    categories = "".join(
        f'<category value={quoteattr(code)} symbol="{i}" '
        f'label={quoteattr(tr.label("gap_class", code))} render="true"/>'
        for i, code in enumerate(GAP_CLASSES)
    )
    symbols = "".join(_symbol(str(i), kind, GAP_COLOURS[code], size_mm=2.4 if i < 3 else 1.4)
                      for i, code in enumerate(GAP_CLASSES))
    return _qml(f'<renderer-v2 type="categorizedSymbol" attr="gap_class" symbollevels="0" '
                f'enableorderby="0" forceraster="0"><categories>{categories}</categories>'
                f"<symbols>{symbols}</symbols></renderer-v2>")


def communes_qml(tr: Translator) -> str:
    """
    QML of the communes layer: graduated colours by ``gap_share`` (share of villages with a gap).

    Examples
    --------
    >>> '<range lower="0.2" upper="0.4"' in communes_qml(translator("en"))
    True
    """
    ranges = []
    symbols = []
    for i, (low, high) in enumerate(zip(SHARE_BINS[:-1], SHARE_BINS[1:], strict=True)):
        label = f"{tr.percent(low)} – {tr.percent(high)}"
        ranges.append(f'<range lower="{low:g}" upper="{high:g}" symbol="{i}" '
                      f"label={quoteattr(label)} render=\"true\"/>")
        symbols.append(_symbol(str(i), "fill", SHARE_COLOURS[i]))
    return _qml(f'<renderer-v2 type="graduatedSymbol" attr="gap_share" '
                f'graduatedMethod="GraduatedColor" symbollevels="0" enableorderby="0" '
                f'forceraster="0"><ranges>{"".join(ranges)}</ranges>'
                f'<symbols>{"".join(symbols)}</symbols></renderer-v2>')


def field_aliases(fields: list[str], tr: Translator) -> str:
    """
    The ``<aliases>`` element of a layer's QML: each known field's label in ``tr``'s language.

    Examples
    --------
    >>> field_aliases(["gap_class", "xyz"], translator("vi"))
    '<aliases><alias field="gap_class" index="0" name="Dịch vụ còn thiếu"/></aliases>'
    """
    rows = []
    for index, name in enumerate(fields):
        if name in COLUMN_LABELS:
            label = tr.column(name)
        elif name in FIELD_ALIASES:
            label = tr.gettext(FIELD_ALIASES[name])
        else:
            continue
        rows.append(f"<alias field={quoteattr(name)} index=\"{index}\" name={quoteattr(label)}/>")
    return "<aliases>" + "".join(rows) + "</aliases>"


def layer_qml(layer: str, tr: Translator, *, geometry: str = "Point") -> str | None:
    """
    The symbology of one of a run's layers (None for a layer geo_dx does not style).

    Examples
    --------
    >>> qml = layer_qml("plan_sites", translator("vi"))
    >>> 'attr="kind"' in qml and 'label="Xây mới trạm BTS 4G"' in qml
    True
    """
    if layer == "villages":
        return villages_qml(tr, geometry=geometry)
    if layer == "communes":
        return communes_qml(tr)
    if layer == "coverage":
        return _categories("technology", [
            (code, tr.gettext(style["label"]), _symbol(code, "marker", style["color"],
                                                       size_mm=2.0))
            for code, style in TECH_STYLE.items() if code != "other"])
    if layer == "plan_sites":  # satellite access apart: a lower service level, not a site
        return _categories("kind", [
            (code, tr.label("plan_kind", code),
             _symbol(code, "marker", _SITE_COLOUR, size_mm=4.0, shape="triangle"))
            for code in ("new_site", "upgrade", "small_cell")] + [
            ("satellite_access", tr.label("plan_kind", "satellite_access"),
             _symbol("satellite_access", "marker", ACCESS_COLOUR, size_mm=3.0,
                     outline_mm=0.6))])
    if layer == "plan_fibre":
        return _single(_symbol("0", "line", _FIBRE_COLOUR, size_mm=0.8))
    if layer == "roads":
        return _single(_symbol("0", "line", "#8c6d46", size_mm=0.4))
    if layer == "power_lines":
        return _single(_symbol("0", "line", "#e08214", size_mm=0.5))
    if layer == "towns":
        return _categories("kind", [
            (code, tr.gettext(label), _symbol(code, "marker", "#222222",
                                              size_mm=3.2 if code == "capital" else 2.2,
                                              shape="square"))
            for code, label in TOWN_KINDS.items()])
    if layer == "clusters":
        return _single(_symbol("0", "fill", "#6b3a00", alpha=0.15))
    return None


def write_layer_styles(
    gpkg: str | Path,
    *,
    language: str = DEFAULT_LANGUAGE,
    villages_geometry: str = "Point",
) -> Path:
    """
    Add the default style of every layer geo_dx writes to a GeoPackage (those present).

    Creates the ``layer_styles`` table QGIS uses (if absent) and replaces any default
    style of those layers; every style carries the field aliases in ``language``.

    Parameters
    ----------
    gpkg
        A GeoPackage that holds the ``villages`` and ``communes`` layers.
    language
        Language of the legend labels.
    villages_geometry
        ``"Point"`` or a polygon type: the villages' symbol (marker or fill).

    Returns
    -------
    pathlib.Path
    """
    tr = translator(language)
    gpkg = Path(gpkg)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(gpkg) as db:
        db.execute(_CREATE)
        present = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        for table in [t for t in DESCRIPTIONS if t in present]:
            fields = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            qml = layer_qml(table, tr, geometry=villages_geometry)
            if qml is None:
                continue
            qml = qml.replace("</qgis>", field_aliases(fields, tr) + "</qgis>")
            description = tr.gettext(DESCRIPTIONS[table])
            column = (present[table],)
            db.execute("DELETE FROM layer_styles WHERE f_table_name = ? AND useAsDefault",
                       (table,))
            db.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'geo_dx', '', ?)",
                (table, column[0] if column else "geom", table, qml, description, now),
            )
    db.close()
    return gpkg


_CREATE = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
    f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
    useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME
)"""


def _qml(renderer: str) -> str:
    return (_HEADER + '<qgis version="3.28.0" styleCategories="Symbology|Fields">'
            + renderer + "</qgis>\n")


def _categories(attr: str, classes: list[tuple[str, str, str]]) -> str:
    """A categorised renderer: (value, legend label, symbol) per class."""
    categories = "".join(f"<category value={quoteattr(value)} symbol={quoteattr(value)} "
                         f'label={quoteattr(label)} render="true"/>'
                         for value, label, _ in classes)
    symbols = "".join(symbol for _, _, symbol in classes)
    return _qml(f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} '
                f'symbollevels="0" enableorderby="0" forceraster="0"><categories>'
                f"{categories}</categories><symbols>{symbols}</symbols></renderer-v2>")


def _single(symbol: str) -> str:
    """A single-symbol renderer (the legend shows the layer's name)."""
    return _qml(f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
                f'forceraster="0"><symbols>{symbol}</symbols></renderer-v2>')


def _symbol(name: str, kind: str, colour: str, *, size_mm: float = 2.4,
            shape: str = "circle", alpha: float | None = None,
            outline_mm: float = 0.2) -> str:
    rgba = _rgba(colour)
    if kind == "line":
        layer = ('<layer class="SimpleLine" enabled="1" locked="0" pass="0"><Option type="Map">'
                 f'<Option type="QString" name="line_color" value="{rgba}"/>'
                 f'<Option type="QString" name="line_width" value="{size_mm:g}"/>'
                 '<Option type="QString" name="line_style" value="solid"/>'
                 "</Option></layer>")
        return (f'<symbol type="line" name={quoteattr(name)} alpha="1" clip_to_extent="1" '
                f'force_rhr="0">{layer}</symbol>')
    if kind == "fill":
        layer = ('<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
                 f'<Option type="QString" name="color" value="{rgba}"/>'
                 '<Option type="QString" name="style" value="solid"/>'
                 f'<Option type="QString" name="outline_color" value="{_OUTLINE}"/>'
                 '<Option type="QString" name="outline_width" value="0.26"/>'
                 "</Option></layer>")
    else:
        layer = ('<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">'
                 f'<Option type="QString" name="color" value="{rgba}"/>'
                 f'<Option type="QString" name="name" value="{shape}"/>'
                 f'<Option type="QString" name="size" value="{size_mm:g}"/>'
                 f'<Option type="QString" name="outline_color" value="{_OUTLINE}"/>'
                 f'<Option type="QString" name="outline_width" value="{outline_mm:g}"/>'
                 "</Option></layer>")
    opacity = alpha if alpha is not None else (0.75 if kind == "fill" else 1)
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="{opacity:g}" '
            f'clip_to_extent="1" force_rhr="0">{layer}</symbol>')


def _rgba(colour: str) -> str:
    """``#D55E00`` → ``213,94,0,255`` (QGIS colour strings)."""
    value = colour.lstrip("#")
    return ",".join(str(int(value[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"
