"""The vendored Leaflet, its fullscreen plugin and geo_dx's page code, inlined into a map.

Files come from ``geo_dx/assets/`` (fetched by ``scripts/vendor_assets.py``, hashes checked
with ``--check``); images become data URIs, so a map needs no internet and no CDN.
"""

from __future__ import annotations

import base64
import html
import json
from functools import cache
from importlib import resources
from typing import Any

import folium
from branca.element import Element

__all__ = ["asset", "inline_assets", "script_json"]


@cache
def asset(name: str) -> bytes:
    """
    The bytes of a file in ``geo_dx/assets/``.

    Examples
    --------
    >>> b"geoDxMap" in asset("geo_dx_map.js")
    True
    """
    return resources.files("geo_dx").joinpath("assets", name).read_bytes()


def script_json(obj: Any) -> str:
    """
    JSON that is safe inside a ``<script>`` element (no ``</script>``, ``<!--``, U+2028).

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


def inline_assets(m: folium.Map, title: str) -> None:
    """Put Leaflet, the plugin and geo_dx's code and styles into ``m``'s page head."""
    m.default_js = []  # nothing from CDNs
    m.default_css = []
    root = m.get_root()
    root.title = html.escape(str(title))
    root.header.add_child(Element(f"<style>{_inline_css()}</style>"), name="geodx_css")
    root.header.add_child(Element(f"<script>{_inline_js()}</script>"), name="geodx_js")


def _data_uri(name: str, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(asset(name)).decode('ascii')}"


@cache
def _inline_css() -> str:
    leaflet = asset("leaflet/leaflet.css").decode("utf-8")
    for img in ("layers.png", "layers-2x.png", "marker-icon.png"):
        leaflet = leaflet.replace(f"url(images/{img})",
                                  f'url("{_data_uri("leaflet/images/" + img, "image/png")}")')
    fullscreen = asset("leaflet.fullscreen/Control.FullScreen.css").decode("utf-8").replace(
        "url('icon-fullscreen.svg')",
        f'url("{_data_uri("leaflet.fullscreen/icon-fullscreen.svg", "image/svg+xml")}")')
    return "\n".join([leaflet, fullscreen, asset("geo_dx_map.css").decode("utf-8"),
                      asset("geo_dx_page.css").decode("utf-8")])


@cache
def _inline_js() -> str:
    icons = {
        "iconUrl": _data_uri("leaflet/images/marker-icon.png", "image/png"),
        "iconRetinaUrl": _data_uri("leaflet/images/marker-icon-2x.png", "image/png"),
        "shadowUrl": _data_uri("leaflet/images/marker-shadow.png", "image/png"),
    }
    parts = [
        asset("leaflet/leaflet.js").decode("utf-8"),
        # Default marker icons as data URIs, so folium Markers added later work offline too.
        f"L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({json.dumps(icons)});",
        asset("leaflet.fullscreen/Control.FullScreen.js").decode("utf-8"),
        asset("geo_dx_page.js").decode("utf-8"),
        asset("geo_dx_map.js").decode("utf-8"),
    ]
    return "\n".join(p.replace("</script", "<\\/script") for p in parts)
