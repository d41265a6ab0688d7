"""Default QGIS styles inside ``villages.gpkg``: villages by gap class, communes by gap share.

QGIS reads a layer's default style from the GeoPackage's ``layer_styles`` table (the
table QGIS itself writes with "Save as default"), so the layers open coloured as on the
map, with legend labels in the run's language. The colours are the map's
(:data:`geo_dx.schema.GAP_COLOURS`, :data:`geo_dx.schema.SHARE_BINS` /
:data:`~geo_dx.schema.SHARE_COLOURS`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from xml.sax.saxutils import quoteattr

from geo_dx.i18n import DEFAULT_LANGUAGE, Translator, translator
from geo_dx.schema import GAP_CLASSES, GAP_COLOURS, SHARE_BINS, SHARE_COLOURS

__all__ = ["communes_qml", "villages_qml", "write_layer_styles"]

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


def write_layer_styles(
    gpkg: str | Path,
    *,
    language: str = DEFAULT_LANGUAGE,
    villages_geometry: str = "Point",
) -> Path:
    """
    Add the default styles of the ``villages`` and ``communes`` layers to a GeoPackage.

    Creates the ``layer_styles`` table QGIS uses (if absent) and replaces any default
    style of those two layers.

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
    styles = [
        ("villages", villages_qml(tr, geometry=villages_geometry),
         tr.gettext("Villages by gap")),
        ("communes", communes_qml(tr), tr.gettext("Share of villages with a gap")),
    ]
    with sqlite3.connect(gpkg) as db:
        db.execute(_CREATE)
        for table, qml, description in styles:
            column = db.execute("SELECT column_name FROM gpkg_geometry_columns "
                                "WHERE table_name = ?", (table,)).fetchone()
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
    return (_HEADER + '<qgis version="3.28.0" styleCategories="Symbology">'
            + renderer + "</qgis>\n")


def _symbol(name: str, kind: str, colour: str, *, size_mm: float = 2.4) -> str:
    rgba = _rgba(colour)
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
                 '<Option type="QString" name="name" value="circle"/>'
                 f'<Option type="QString" name="size" value="{size_mm:g}"/>'
                 f'<Option type="QString" name="outline_color" value="{_OUTLINE}"/>'
                 '<Option type="QString" name="outline_width" value="0.2"/>'
                 "</Option></layer>")
    return (f'<symbol type="{kind}" name="{name}" alpha="{0.75 if kind == "fill" else 1}" '
            f'clip_to_extent="1" force_rhr="0">{layer}</symbol>')


def _rgba(colour: str) -> str:
    """``#D55E00`` → ``213,94,0,255`` (QGIS colour strings)."""
    value = colour.lstrip("#")
    return ",".join(str(int(value[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"
