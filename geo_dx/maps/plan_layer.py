"""The investment plan as a map layer: chosen sites with lines to the villages each newly
serves, fibre routes, and a popup per item (cost, villages served).

Labels are in the run's language (Vietnamese by default, :mod:`geo_dx.i18n`); text from
the data (village names, ids) is escaped before it reaches a popup.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geo_dx.i18n import DEFAULT_LANGUAGE, N_, Translator, translator
from geo_dx.maps.assets import script_json
from geo_dx.maps.payload import to_wgs84

#: User-facing labels of the plan layer: English msgids, translated by
#: :func:`geo_dx.i18n.translator`.
PLAN_MAP_TEXT: dict[str, str] = {
    "layer": N_("Investment plan ({n} items)"),
    "site": N_("New or upgraded site"),
    "fibre": N_("Fibre extension"),
    "cost": N_("Cost"),
    "cumulative": N_("Cumulative cost"),
    "villages": N_("Villages newly served"),
    "people": N_("People"),
    "route": N_("Route length"),
    "road": N_("along roads"),
    "offroad": N_("off-road"),
    "rank": N_("Rank"),
    "bn": N_("bn VND"),
}
_SITE_COLOUR = "#0b3d91"
_FIBRE_COLOUR = "#1b9e77"


def plan_layer(items: gpd.GeoDataFrame, links: gpd.GeoDataFrame, *,
               language: str = DEFAULT_LANGUAGE) -> Callable[[folium.Map], Any]:
    """
    A callable that adds the plan layer, labelled in ``language``, to a folium map (for
    ``write_maps(layers=...)``).

    Examples
    --------
    >>> site = shapely.Point(103.0, 21.4)
    >>> items = gpd.GeoDataFrame({"rank": [1], "item_id": ["M1"], "kind": ["new_site"],
    ...                           "cost_vnd": [2e9], "cumulative_cost_vnd": [2e9],
    ...                           "village_names": ["Bản Phì"], "people_served": [320]},
    ...                          geometry=[site], crs=4326)
    >>> links = gpd.GeoDataFrame({"item_id": ["M1"]}, crs=4326,
    ...                          geometry=[shapely.LineString([site, (103.01, 21.41)])])
    >>> m = folium.Map(location=(21.4, 103.0))
    >>> group = plan_layer(items, links)(m)
    >>> "Bản Phì" in m.get_root().render()
    True
    """
    tr = translator(language)
    items = to_wgs84(items, "plan items", drop_empty=False) if len(items) else items
    links = to_wgs84(links, "plan links", drop_empty=False) if len(links) else links

    payload = {
        "links": [_latlon(g) for g in links.geometry],
        "sites": [], "routes": [],
        "siteColour": _SITE_COLOUR, "fibreColour": _FIBRE_COLOUR,
    }
    for _, row in items.iterrows():
        popup = _popup(row, tr)
        if row["kind"] == "fibre":
            payload["routes"].append({"lines": [_latlon(p) for p in
                                                shapely.get_parts(row.geometry)],
                                      "popup": popup})
        else:
            payload["sites"].append({"at": [round(row.geometry.y, 6), round(row.geometry.x, 6)],
                                     "popup": popup, "label": str(row["item_id"])})

    def add(m: folium.Map) -> folium.FeatureGroup:
        layer_name = PLAN_MAP_TEXT["layer"]
        group = folium.FeatureGroup(name=tr.gettext(layer_name, n=tr.number(len(items))),
                                    show=True)
        group.add_to(m)
        _PlanLayer(payload, group).add_to(m)
        return group

    return add


def plan_layer_from_tables(tables: dict[str, gpd.GeoDataFrame], villages: gpd.GeoDataFrame, *,
                           language: str = DEFAULT_LANGUAGE
                           ) -> Callable[[folium.Map], Any] | None:
    """
    The plan layer rebuilt from a run's plan tables (``plan_sites``, ``plan_fibre``), or None.

    Lines from sites to villages are redrawn from ``villages_served`` and the villages layer.
    """
    if not {"plan_sites", "plan_fibre"} <= set(tables):
        return None
    parts = [tables[n] for n in ("plan_sites", "plan_fibre") if len(tables[n])]
    if not parts:
        return plan_layer(gpd.GeoDataFrame({"kind": []}, geometry=[], crs=villages.crs),
                          gpd.GeoDataFrame(geometry=[], crs=villages.crs), language=language)
    items = gpd.GeoDataFrame(pd.concat([p.to_crs(parts[0].crs) for p in parts],
                                       ignore_index=True), crs=parts[0].crs)
    items = items.sort_values("rank").reset_index(drop=True)
    where = villages_points(villages)
    rows = []
    for _, row in items[items["kind"] != "fibre"].iterrows():
        site = row.geometry
        for vid in str(row["villages_served"] or "").split(";"):
            if vid in where.index:
                rows.append({"item_id": row["item_id"], "village_id": vid,
                             "geometry": shapely.LineString([site, where[vid]])})
    links = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["item_id", "village_id", "geometry"]),
                             geometry="geometry", crs=items.crs)
    return plan_layer(items, links, language=language)


def villages_points(villages: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Village locations (representative points), indexed by village id."""
    from geo_dx.spatial import village_locations

    return gpd.GeoSeries(village_locations(villages).to_numpy(),
                         index=villages["village_id"].astype(str).to_numpy(), crs=villages.crs)


class _PlanLayer(MacroElement):
    """Draws the plan into its feature group with plain Leaflet (no plugin, no jQuery)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (data, group) {
          data.links.forEach(function (line) {
            L.polyline(line, {color: data.siteColour, weight: 1.5, opacity: 0.8,
                              dashArray: "4 4"}).addTo(group);
          });
          data.routes.forEach(function (route) {
            route.lines.forEach(function (line) {
              L.polyline(line, {color: data.fibreColour, weight: 4, opacity: 0.9})
                .bindPopup(route.popup).addTo(group);
            });
          });
          data.sites.forEach(function (site) {
            L.circleMarker(site.at, {radius: 8, color: "#ffffff", weight: 2, fill: true,
                                     fillColor: data.siteColour, fillOpacity: 0.95})
              .bindPopup(site.popup).bindTooltip(document.createTextNode(site.label))
              .addTo(group);
          });
        })({{ this.payload }}, {{ this.group.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, payload: dict[str, Any], group: folium.FeatureGroup):
        super().__init__()
        self._name = "GeoDxPlan"
        self.payload = script_json(payload)
        self.group = group


def _latlon(line: shapely.Geometry) -> list[list[float]]:
    return [[round(y, 6), round(x, 6)] for x, y in shapely.get_coordinates(line)]


def _popup(row: Any, tr: Translator) -> str:
    e = html.escape

    def t(key: str) -> str:
        return e(tr.gettext(PLAN_MAP_TEXT[key]))

    names = [n for n in str(row["village_names"]).split(";") if n]
    title = t("fibre") if row["kind"] == "fibre" else t("site")
    kind = tr.label("plan_kind", row["kind"])
    lines = [
        f"<b>{e(str(row['item_id']))}</b> · {title} ({e(kind)})",
        f"{t('rank')}: {int(row['rank'])}",
        f"{t('cost')}: {e(tr.number(row['cost_vnd'] / 1e9, decimals=2))} {t('bn')}",
        f"{t('cumulative')}: {e(tr.number(row['cumulative_cost_vnd'] / 1e9, decimals=2))} "
        f"{t('bn')}",
        f"{t('villages')}: {len(names)} — {e(', '.join(names[:12]))}"
        + (" …" if len(names) > 12 else ""),
        f"{t('people')}: {e(tr.number(row['people_served']))}",
    ]
    if row["kind"] == "fibre":
        route = f"{t('route')}: {e(tr.km(row['route_km'] * 1000))}"
        if pd.notna(row.get("route_offroad_km")):
            route += (f" ({t('road')} {e(tr.km(row['route_road_km'] * 1000))}, "
                      f"{t('offroad')} {e(tr.km(row['route_offroad_km'] * 1000))})")
        lines.append(route)
    return "<br>".join(lines)
