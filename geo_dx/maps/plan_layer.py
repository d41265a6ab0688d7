"""The investment plan as a map layer: chosen sites with lines to the villages each newly
serves, fibre routes, satellite access points (a Wi-Fi hotspot in the village, a lower
service level than 4G: their own marker, no line), and a popup per item (cost, villages
served).

Labels are in the run's language (Vietnamese by default, :mod:`geo_dx.i18n`); text from
the data (village names, ids) is escaped before it reaches a popup.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geo_dx.i18n import CODE_LABELS, DEFAULT_LANGUAGE, N_, Translator, translator
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
    "existing": N_("Existing site"),
    "operator": N_("Operator"),
    "candidate": N_("Candidate"),
    "technology": N_("Technology, antenna"),
    "start": N_("Starts from fibre node"),
    "place": N_("Works at"),
    "nearest_road": N_("Nearest road"),
    "legend": N_("Investment plan"),
    "link": N_("Village the site newly serves"),
    "service": N_("Service"),
    "access_cost": N_("Terminal and installation {capex} million VND, then {opex} million VND "
                      "a year"),
    "power": N_("Power supply"),
}
#: Plan sites are squares (mobile sites are circles), fibre routes thick lines and satellite
#: access points a yellow disc with a black ring and centre (a dish, readable in grey print),
#: in colours no village class or coverage symbol uses.
_SITE_COLOUR = "#c2185b"
_FIBRE_COLOUR = "#6a1b9a"
#: The colour of satellite access points wherever the plan is drawn (map, QGIS, proposal).
ACCESS_COLOUR = "#f0e442"


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

    access = (items["kind"] == "satellite_access").to_numpy() if len(items) else []
    payload = {
        "links": [_latlon(g) for g in links.geometry],
        "sites": [], "routes": [], "access": [],
        "siteColour": _SITE_COLOUR, "fibreColour": _FIBRE_COLOUR,
        "accessColour": ACCESS_COLOUR,
        "legend": {"title": tr.gettext(PLAN_MAP_TEXT["legend"]), "rows": [
            {"kind": "plan-site", "label": tr.gettext(PLAN_MAP_TEXT["site"]),
             "color": _SITE_COLOUR},
            {"kind": "plan-fibre", "label": tr.gettext(PLAN_MAP_TEXT["fibre"]),
             "color": _FIBRE_COLOUR},
            {"kind": "plan-link", "label": tr.gettext(PLAN_MAP_TEXT["link"]),
             "color": _SITE_COLOUR}]},
    }
    if any(access):  # only when the plan has some: a lower service level, not a 4G site
        payload["legend"]["rows"].insert(2, {
            "kind": "plan-access", "label": tr.label("plan_kind", "satellite_access"),
            "color": ACCESS_COLOUR})
    for is_access, (_, row) in zip(access, items.iterrows(), strict=True):
        popup = _popup(row, tr)
        if row["kind"] == "fibre":
            payload["routes"].append({"lines": [_latlon(p) for p in
                                                shapely.get_parts(row.geometry)],
                                      "popup": popup, "label": str(row["item_id"])})
        else:
            payload["access" if is_access else "sites"].append(
                {"at": [round(row.geometry.y, 6), round(row.geometry.x, 6)],
                 "popup": popup, "label": str(row["item_id"])})

    def add(m: folium.Map) -> folium.FeatureGroup:
        layer_name = PLAN_MAP_TEXT["layer"]
        group = folium.FeatureGroup(name=tr.gettext(layer_name, n=tr.number(len(items))),
                                    show=True)
        group.add_to(m)
        _PlanLayer(payload, group).add_to(m)
        return group

    return add


def plan_items_from_tables(tables: Mapping[str, gpd.GeoDataFrame]
                           ) -> gpd.GeoDataFrame | None:
    """
    The plan items of a run's plan tables (``plan_sites`` and ``plan_fibre`` of its
    GeoPackage) in rank order, with their geometry; None when the run made no plan.
    """
    if not {"plan_sites", "plan_fibre"} <= set(tables):
        return None
    parts = [tables[n] for n in ("plan_sites", "plan_fibre") if len(tables[n])]
    if not parts:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=4326)
    items = gpd.GeoDataFrame(pd.concat([p.to_crs(parts[0].crs) for p in parts],
                                       ignore_index=True), crs=parts[0].crs)
    return items.sort_values("rank", kind="stable").reset_index(drop=True)


def plan_links(items: gpd.GeoDataFrame, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Lines from each planned site to the villages it newly serves (``villages_served``);
    none for satellite access (a hotspot in the village it serves)."""
    where = villages_points(villages)
    crs = items.crs if items.crs is not None else villages.crs
    rows = []
    if len(items) and "villages_served" in items:
        sites = items[~items["kind"].isin(["fibre", "satellite_access"])]
        if where.crs is not None and sites.crs is not None:
            sites = sites.to_crs(where.crs)
        for _, row in sites.iterrows():
            for vid in str(row["villages_served"] or "").split(";"):
                if vid in where.index:
                    rows.append({"item_id": row["item_id"], "village_id": vid,
                                 "geometry": shapely.LineString([row.geometry, where[vid]])})
    links = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["item_id", "village_id", "geometry"]),
                             geometry="geometry", crs=where.crs)
    return links.to_crs(crs) if crs is not None and where.crs is not None else links


def plan_layer_from_tables(tables: Mapping[str, gpd.GeoDataFrame],
                           villages: gpd.GeoDataFrame, *, language: str = DEFAULT_LANGUAGE
                           ) -> Callable[[folium.Map], Any] | None:
    """
    The plan layer rebuilt from a run's plan tables (``plan_sites``, ``plan_fibre``), or None.

    Lines from sites to villages are redrawn from ``villages_served`` and the villages layer.
    """
    items = plan_items_from_tables(tables)
    if items is None:
        return None
    return plan_layer(items, plan_links(items, villages), language=language)


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
        (function (data, group, map) {
          // Every item keeps its id on the map (short labels, printed too).
          var order = 0;
          function label(at, text) {
            order += 1;
            return L.marker(at, {icon: L.divIcon({className: "geodx-plan-label", html: "",
                                                  iconSize: null, iconAnchor: [-9, 8]}),
                                 interactive: false, keyboard: false, zIndexOffset: 900,
                                 geoDxPlanLabel: order})
              .on("add", function (e) { e.target.getElement().textContent = text; });
          }
          data.links.forEach(function (line) {
            L.polyline(line, {color: data.siteColour, weight: 1.5, opacity: 0.8,
                              dashArray: "4 4", interactive: false}).addTo(group);
          });
          data.routes.forEach(function (route) {
            route.lines.forEach(function (line) {
              L.polyline(line, {color: data.fibreColour, weight: 4, opacity: 0.9})
                .bindPopup(route.popup).addTo(group);
            });
            var first = route.lines[0];
            if (first && first.length) {
              label(first[Math.floor(first.length / 2)], route.label).addTo(group);
            }
          });
          data.sites.forEach(function (site) {
            L.marker(site.at, {icon: L.divIcon({className: "geodx-plan-site", iconSize: [14, 14],
                                                html: ""}),
                               zIndexOffset: 950, keyboard: false, title: site.label,
                               geoDxPlanItem: site.label})
              .bindPopup(site.popup).addTo(group);
            label(site.at, site.label).addTo(group);
          });
          // Satellite access: a hotspot in the village, a lower service level than 4G.
          data.access.forEach(function (point) {
            L.marker(point.at, {icon: L.divIcon({className: "geodx-plan-access",
                                                 iconSize: [14, 14], html: ""}),
                                zIndexOffset: 940, keyboard: false, title: point.label,
                                geoDxPlanItem: point.label, geoDxPlanAccess: true})
              .bindPopup(point.popup).addTo(group);
            label(point.at, point.label).addTo(group);
          });
          if (window.geoDxMap && geoDxMap.addLegend) {
            geoDxMap.addLegend(map, data.legend);
          }
        })({{ this.payload }}, {{ this.group.get_name() }}, {{ this._parent.get_name() }});
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

    def has(column: str) -> bool:
        return column in row and row[column] is not None and not pd.isna(row[column])

    names = [n for n in str(row.get("village_names") or "").split(";") if n]
    access = row["kind"] == "satellite_access"
    title = t("fibre") if row["kind"] == "fibre" else t("site")
    kind = tr.label("plan_kind", row["kind"])
    lines = [f"<b>{e(str(row['item_id']))}</b> · "
             + (e(kind) if access else f"{title} ({e(kind)})")]
    if has("rank"):
        lines.append(f"{t('rank')}: {int(row['rank'])}")
    if access:  # the service level in plain words: a Wi-Fi hotspot, not 4G
        service = row["service"] if has("service") else "satellite_hotspot"
        lines.append(f"{t('service')}: {e(tr.label('plan_service', service))}")
    for key, column in (("cost", "cost_vnd"), ("cumulative", "cumulative_cost_vnd")):
        if has(column):
            lines.append(f"{t(key)}: {e(tr.number(row[column] / 1e9, decimals=2))} {t('bn')}")
    if access and has("capex_vnd") and has("opex_vnd_per_year"):
        lines.append(e(tr.gettext(PLAN_MAP_TEXT["access_cost"],
                                  capex=tr.number(row["capex_vnd"] / 1e6, decimals=0),
                                  opex=tr.number(row["opex_vnd_per_year"] / 1e6, decimals=1))))
    lines.append(f"{t('villages')}: {len(names)} — {e(', '.join(names[:12]))}"
                 + (" …" if len(names) > 12 else ""))
    if has("people_served"):
        lines.append(f"{t('people')}: {e(tr.number(row['people_served']))}")
    if row["kind"] == "fibre" and has("route_km"):
        route = f"{t('route')}: {e(tr.km(row['route_km'] * 1000))}"
        if has("route_offroad_km") and has("route_road_km"):
            route += (f" ({t('road')} {e(tr.km(row['route_road_km'] * 1000))}, "
                      f"{t('offroad')} {e(tr.km(row['route_offroad_km'] * 1000))})")
        lines.append(route)
    if access and has("power"):
        lines.append(f"{t('power')}: {e(tr.label('plan_power', row['power']))}")
    lines += [f"{t(key)}: {e(value)}" for key, value in _who_and_where(row, tr) if value]
    return "<br>".join(lines)


def _who_and_where(row: Any, tr: Translator) -> list[tuple[str, str]]:
    """What to build with whom, and where: the popup lines of :mod:`geo_dx.plan.items`."""
    def text(col: str) -> str:
        value = row.get(col) if hasattr(row, "get") else None
        return "" if value is None or (isinstance(value, float) and value != value) else str(value)

    def metres(col: str) -> str:
        value = row.get(col) if hasattr(row, "get") else None
        return "" if value is None or value != value else tr.metres(float(value))

    height = metres("antenna_height_m")
    code = text("technology")  # its label (backhaul included); a bare code ("4g") upper case
    technology = tr.label("plan_technology", code) if code in CODE_LABELS["plan_technology"] \
        else code.upper()
    place = ", ".join(p for p in (text("location_commune"), metres("elevation_m")) if p)
    return [
        ("candidate", " · ".join(p for p in (text("candidate_id"), text("name")) if p)),
        ("existing", text("site_ref")),
        ("start", text("start_node_id")),
        ("operator", text("operator")),
        ("technology", technology + (f", {height}" if height else "")
         if row["kind"] not in ("fibre", "satellite_access") else ""),
        ("place", place),
        ("nearest_road", metres("road_distance_m")),
    ]
