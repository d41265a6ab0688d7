"""The layers of a map page: empty feature groups, the data hand-over, the raster image.

:func:`feature_groups` makes the empty layers the layer control lists (filled in the browser
by ``geo_dx_map.js``); :class:`GeoDxLayers` hands them and the embedded data to
``geoDxMap.build``; :func:`add_raster` adds the terrain coverage raster as an image.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template

from geo_dx.maps.assets import script_json
from geo_dx.maps.raster import raster_overlay

__all__ = ["GeoDxLayers", "add_raster", "text_elements", "count_text", "feature_groups"]


@contextmanager
def text_elements() -> Iterator[None]:
    """
    Within the block, a branca ``Element(source)`` with no Jinja syntax is kept as text.

    folium renders each element's script and hands the result back to branca as a new
    ``Element(text)``, and branca compiles every such text as a Jinja template: ~36
    compilations a page of text with no template syntax left (:func:`script_json` keeps the
    data from adding any), a fifth of a commune page's time. Sources with Jinja syntax are
    still compiled, once per source. Restored on exit.

    Examples
    --------
    >>> from branca.element import Element
    >>> with text_elements():
    ...     plain = Element("<b>x</b>\\n")
    ...     a, b = Element("<b>{{ this._name }}</b>"), Element("<b>{{ this._name }}</b>")
    >>> plain.render(), a._template is b._template, a.render()
    ('<b>x</b>', True, '<b>Element</b>')
    """
    import branca.element

    original = branca.element.Template
    cache: dict[str, Any] = {}

    def template(source: str) -> Any:
        if not _JINJA_SYNTAX.search(source):
            return _Text(source)
        if source not in cache:
            cache[source] = original(source)
        return cache[source]

    branca.element.Template = template  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        branca.element.Template = original  # type: ignore[misc]


#: What starts Jinja syntax with the default delimiters.
_JINJA_SYNTAX = re.compile(r"\{[{%#]")


class _Text:
    """A template without syntax: renders its text as Jinja would (one final newline cut)."""

    def __init__(self, source: str):
        self.text = source[:-1] if source.endswith("\n") else source

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.text


class GeoDxLayers(MacroElement):
    """Hands the embedded data and the empty feature groups to geo_dx_map.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = geoDxMap.build({{ this._parent.get_name() }},
            {{ this.payload }},
            { {%- for key, group in this.groups.items() %}
              {{ key|tojson }}: {{ group.get_name() }},
            {%- endfor %} });
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict[str, Any], groups: dict[str, folium.FeatureGroup]):
        super().__init__()
        self._name = "GeoDxLayers"
        self.payload = script_json(payload)
        self.groups = groups


def feature_groups(
    data: dict[str, Any], *, show_covered: bool = True, show_coverage: bool = True
) -> dict[str, folium.FeatureGroup]:
    """The empty layers (filled by geo_dx_map.js) that the layer control lists, in order."""
    labels = data["labels"]
    context = data.get("context", {})
    groups: dict[str, folium.FeatureGroup] = {}
    if "relief" in context:
        groups["relief"] = folium.FeatureGroup(labels["layer_relief"])
    if data["communes"]["features"]:
        groups["communes"] = folium.FeatureGroup(labels["layer_communes"])
    if context.get("communeLabels", {}).get("name"):
        groups["communeLabels"] = folium.FeatureGroup(labels["layer_commune_names"])
    if context.get("roads", {}).get("lines"):
        groups["roads"] = folium.FeatureGroup(labels["layer_roads"])
    if context.get("towns", {}).get("name"):
        groups["towns"] = folium.FeatureGroup(labels["layer_towns"])
    for cls in data["gapClasses"]:
        groups[cls["key"]] = folium.FeatureGroup(
            labels["layer_gap"].format(label=cls["label"], n=count_text(data, cls["count"])),
            show=show_covered or cls["key"] != "none")
    if data["hasScore"]:
        groups["top"] = folium.FeatureGroup(labels["layer_top"].format(n=data["topN"]))
    tech = data["sites"]["tech"]
    n_fibre = tech.count("fibre")
    if len(tech) - n_fibre:
        groups["mobile"] = folium.FeatureGroup(
            labels["layer_mobile"].format(n=count_text(data, len(tech) - n_fibre)),
            show=show_coverage)
        groups["reach"] = folium.FeatureGroup(labels["layer_reach"], show=False)
    if n_fibre:
        groups["fibre"] = folium.FeatureGroup(
            labels["layer_fibre"].format(n=count_text(data, n_fibre)), show=show_coverage)
    return groups


def count_text(data: dict[str, Any], n: int) -> str:
    """A whole number grouped the page's way (``1.650`` in Vietnamese, ``1,650`` in English)."""
    return f"{int(n):,}".replace(",", data["numberFormat"]["group"])


def add_raster(
    m: folium.Map, path: str | Path, clip_lonlat: tuple[float, float, float, float] | None,
    name: str, show: bool,
) -> bool:
    """Add the coverage raster at ``path`` as an image layer; False when it misses the clip."""
    overlay = raster_overlay(path, clip_lonlat=clip_lonlat)
    if overlay is None:
        return False
    png_uri, bounds = overlay
    folium.map.CustomPane("geodx-raster", z_index=350, pointer_events=False).add_to(m)
    folium.raster_layers.ImageOverlay(
        png_uri, bounds=bounds, name=name, opacity=0.3, pane="geodx-raster",
        overlay=True, show=show, interactive=False,
    ).add_to(m)
    return True
