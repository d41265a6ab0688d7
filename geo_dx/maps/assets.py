"""The vendored Leaflet, its fullscreen plugin and geo_dx's page code, inlined or shared.

Files come from ``geo_dx/maps/static/`` (fetched by ``scripts/vendor_assets.py``, hashes checked
with ``--check``); images become data URIs, so a map needs no internet and no CDN.

A single map inlines them (:func:`inline_assets`, ~200 kB). The pages of a run share one copy
instead: :func:`write_shared_assets` writes ``assets/geo_dx.css`` and ``assets/geo_dx.js``
once into the run folder and each page links them by a relative path (:func:`link_assets`),
so a page still opens offline from disk as long as it stays in its run folder.
"""

from __future__ import annotations

import base64
import html
import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import folium
from branca.element import Element

__all__ = ["SHARED_ASSETS", "asset", "inline_assets", "link_assets", "script_json",
           "write_shared_assets"]

#: Folder of a run holding the page code shared by every page.
SHARED_ASSETS = "assets"


@cache
def asset(name: str) -> bytes:
    """
    The bytes of a file in ``geo_dx/maps/static/``.

    Examples
    --------
    >>> b"geoDxMap" in asset("geo_dx_map.js")
    True
    """
    return resources.files("geo_dx.maps").joinpath("static", name).read_bytes()


def script_json(obj: Any) -> str:
    """
    JSON that is safe inside a ``<script>`` element (no ``</script>``, ``<!--``, U+2028).

    Nor does it contain ``{{``, ``{%`` or ``{#``: folium hands every rendered script back to
    Jinja as a template, so a village named ``{{ 7*7 }}`` would be shown as ``49`` (and
    ``{% raw %}`` would stop the map being written). Compact JSON never has these pairs
    outside strings, so each such ``{`` is escaped as ``\\u007b``.

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    >>> script_json({"name": "{{ 7*7 }}"})
    '{"name":"\\\\u007b{ 7*7 }}"}'
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return _JINJA_OPENING.sub(r"\\u007b", text)


#: A ``{`` that opens Jinja syntax (``{{``, ``{%``, ``{#``).
_JINJA_OPENING = re.compile(r"\{(?=[{%#])")


def inline_assets(m: folium.Map, title: str) -> None:
    """Put Leaflet, the plugin and geo_dx's code and styles into ``m``'s page head."""
    m.default_js = []  # nothing from CDNs
    m.default_css = []
    root = m.get_root()
    root.title = html.escape(str(title))
    # _Raw: ~200 kB of code compiled as a Jinja template per page was most of a page's cost
    root.header.add_child(_Raw(f"<style>{_inline_css()}</style>"), name="geodx_css")
    root.header.add_child(_Raw(f"<script>{_inline_js()}</script>"), name="geodx_js")


def link_assets(m: folium.Map, title: str, href: str) -> None:
    """
    Link the shared ``geo_dx.css`` and ``geo_dx.js`` from folder ``href`` into ``m``'s head.

    ``href`` is relative to the page (``"assets/"`` beside it, ``"../assets/"`` one level
    down); the files are those of :func:`write_shared_assets`.

    Examples
    --------
    >>> m = folium.Map(tiles=None)
    >>> link_assets(m, "Demo", "../assets/")
    >>> '<script src="../assets/geo_dx.js"></script>' in m.get_root().render()
    True
    """
    m.default_js = []
    m.default_css = []
    root = m.get_root()
    root.title = html.escape(str(title))
    href = html.escape(href, quote=True)
    root.header.add_child(_Raw(f'<link rel="stylesheet" href="{href}geo_dx.css">'),
                          name="geodx_css")
    root.header.add_child(_Raw(f'<script src="{href}geo_dx.js"></script>'), name="geodx_js")


def write_shared_assets(out_dir: str | Path) -> list[Path]:
    """
    Write ``assets/geo_dx.css`` and ``assets/geo_dx.js`` into ``out_dir`` (atomically).

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in write_shared_assets(tempfile.mkdtemp())]
    ['geo_dx.css', 'geo_dx.js']
    """
    from geo_dx.atomic import write_text_atomic

    folder = Path(out_dir) / SHARED_ASSETS
    return [write_text_atomic(folder / "geo_dx.css", _inline_css()),
            write_text_atomic(folder / "geo_dx.js", _inline_js())]


class _Raw(Element):
    """Fixed markup, rendered as is (a branca Element would compile it as a template)."""

    def __init__(self, markup: str):
        super().__init__()
        self.markup = markup

    def render(self, **kwargs: Any) -> str:
        return self.markup


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
