"""Where layers lie: a village's location, the working metric CRS, extent checks and the
geometry of input layers (:func:`check_geometry`, called by :mod:`geo_dx.schema`).

Every module that needs a village as a point calls :func:`village_locations`; every
distance is measured in :func:`working_crs` ("configured, else the data's own projected
CRS, else the UTM zone estimated from the data").
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from geo_dx.errors import GeoDxWarning, InputError
from geo_dx.tables import describe_rows


def village_locations(villages: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """
    Each village's location: its point, or for a polygon its ``representative_point()``.

    Every module that needs a village as a point uses this one rule.

    Examples
    --------
    >>> import shapely
    >>> v = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2, 2), shapely.Point(5, 5)],
    ...                      crs=32648)
    >>> loc = village_locations(v)
    >>> bool(loc.iloc[0].within(shapely.box(0, 0, 2, 2))), loc.iloc[1].wkt
    (True, 'POINT (5 5)')
    """
    geom = villages.geometry
    shapes = geom.to_numpy()
    polygonal = np.flatnonzero(shapely.get_type_id(shapes) != 0)  # 0: Point
    if len(polygonal) == 0:
        return geom
    located = shapes.copy()
    located[polygonal] = shapely.point_on_surface(shapes[polygonal])  # representative point
    return gpd.GeoSeries(located, index=villages.index, crs=villages.crs)


def working_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, crs: object | None = None) -> CRS:
    """
    The projected CRS distances are measured in: ``crs`` when configured, else the data's
    own CRS when it is projected, else the UTM zone estimated from the data.

    Examples
    --------
    >>> import shapely
    >>> pts = gpd.GeoSeries([shapely.Point(103.0, 21.4)], crs=4326)
    >>> working_crs(pts).to_epsg(), working_crs(pts, "EPSG:3405").to_epsg()
    (32648, 3405)
    """
    if crs:
        check_crs_covers(crs, frame, source="the data")  # a wrong UTM zone distorts distances
        return CRS.from_user_input(crs)
    own = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    if own is not None and own.is_projected:
        return own
    return utm_crs(frame)


def utm_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """
    The WGS 84 UTM zone of the data's median location (a few misplaced features, say a
    longitude typed ``-0``, do not move it, unlike the centre of the bounds).

    Examples
    --------
    >>> import shapely
    >>> pts = gpd.GeoSeries([shapely.Point(103.0, 21.4), shapely.Point(103.2, 21.5),
    ...                      shapely.Point(0.0, 21.4)], crs=4326)
    >>> utm_crs(pts).to_epsg()
    32648
    """
    geometry = frame if isinstance(frame, gpd.GeoSeries) else frame.geometry
    lon, lat = _median_lon_lat(geometry)
    if not (np.isfinite(lon) and np.isfinite(lat)):
        return CRS.from_user_input(frame.estimate_utm_crs())
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _median_lon_lat(geometry: gpd.GeoSeries) -> tuple[float, float]:
    bounds = geometry.to_crs(4326).bounds
    with np.errstate(all="ignore"):
        lon = (bounds["minx"] + bounds["maxx"]).to_numpy(dtype=float) / 2
        lat = (bounds["miny"] + bounds["maxy"]).to_numpy(dtype=float) / 2
    keep = np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        return np.nan, np.nan
    return float(np.median(lon[keep])), float(np.median(lat[keep]))


def check_extent(
    layer: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    *,
    source: str,
    reference_source: str,
    tolerance_m: float = 50_000.0,
) -> None:
    """
    Raise if most of ``layer`` lies far outside the extent of ``reference``.

    That is almost always swapped lon/lat columns or the wrong CRS, so the message
    says which when swapping the coordinates would bring the layer inside.
    """
    if layer.empty or reference.empty:
        return
    ref = reference.to_crs(4326)
    pts = layer.geometry.to_crs(4326).representative_point()
    minx, miny, maxx, maxy = ref.total_bounds
    pad = tolerance_m / 111_000.0
    x, y = pts.x.to_numpy(), pts.y.to_numpy()

    def inside(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return (xs >= minx - pad) & (xs <= maxx + pad) & (ys >= miny - pad) & (ys <= maxy + pad)

    outside = ~inside(x, y)
    if outside.mean() <= 0.5:
        return
    hint = (
        "the lon and lat columns look swapped; swap them"
        if inside(y, x).mean() > 0.5
        else "check the coordinates and the layer's CRS"
    )
    raise InputError(
        f"{source}: {outside.sum()} of {len(pts)} features lie more than "
        f"{tolerance_m / 1000:.0f} km outside {reference_source} "
        f"(lon {minx:.2f}..{maxx:.2f}, lat {miny:.2f}..{maxy:.2f}); "
        f"e.g. lon={x[outside][0]:.4f}, lat={y[outside][0]:.4f}: {hint}"
    )


def check_crs_covers(
    crs: object, layer: gpd.GeoDataFrame | gpd.GeoSeries, *, source: str = "villages",
    tolerance_deg: float = 3.0,
) -> None:
    """
    Raise if the configured working CRS is not meant for where ``layer`` lies.

    A CRS's area of use (e.g. lon 102..108 for UTM 48N) is widened by
    ``tolerance_deg``; a layer mostly outside it (a wrong UTM zone) would measure
    distorted distances, so the message names the zone of the data instead. A minority
    of features outside (misplaced villages) is left to the commune check.

    Examples
    --------
    >>> import shapely
    >>> v = gpd.GeoDataFrame(geometry=[shapely.Point(103.0, 21.4)], crs=4326)
    >>> check_crs_covers("EPSG:32648", v)
    >>> check_crs_covers("EPSG:32631", v)
    Traceback (most recent call last):
    ...
    geo_dx.errors.InputError: config: crs = 'EPSG:32631' (WGS 84 / UTM zone 31N) is for ...
    """
    parsed = CRS.from_user_input(crs)
    area = parsed.area_of_use
    if area is None or layer.empty or layer.crs is None:
        return
    geometry = layer if isinstance(layer, gpd.GeoSeries) else layer.geometry
    bounds = geometry.to_crs(4326).bounds
    if not np.isfinite(bounds.to_numpy(dtype=float)).all():
        return  # broken coordinates are reported by the geometry checks
    t = tolerance_deg
    inside = ((bounds["minx"] >= area.west - t) & (bounds["maxx"] <= area.east + t)
              & (bounds["miny"] >= area.south - t) & (bounds["maxy"] <= area.north + t))
    if inside.mean() >= 0.5:
        return  # a few misplaced features are named by the commune check, not here
    minx, miny = bounds["minx"].quantile(0.05), bounds["miny"].quantile(0.05)
    maxx, maxy = bounds["maxx"].quantile(0.95), bounds["maxy"].quantile(0.95)
    suggestion = utm_crs(geometry)
    label = repr(crs) if isinstance(crs, str) else repr(parsed.to_string())
    raise InputError(
        f"config: crs = {label} ({parsed.name}) is for lon {area.west:g}..{area.east:g}, "
        f"lat {area.south:g}..{area.north:g}, but {source} lie at lon {minx:.2f}..{maxx:.2f}, "
        f"lat {miny:.2f}..{maxy:.2f}; distances there would be wrong: use "
        f"crs = \"EPSG:{suggestion.to_epsg()}\" ({suggestion.name}) or leave crs out"
    )


def check_geometry(gdf: gpd.GeoDataFrame, *, kinds: tuple[str, ...], layer: str,
                   source: str) -> gpd.GeoDataFrame:
    """
    Check an input layer's geometry in place (give a copy): every feature has one, of
    ``kinds``, with finite coordinates on the Earth; invalid ones are repaired with
    ``make_valid`` (a warning counts them). Anything else raises :class:`InputError`
    naming ``source``, the rows and the fix.

    Examples
    --------
    >>> line = gpd.GeoDataFrame(geometry=[shapely.LineString([(103, 21), (103.1, 21)])],
    ...                         crs=4326)
    >>> check_geometry(line, kinds=("LineString",), layer="lines", source="l.gpkg").shape
    (1, 1)
    >>> try:
    ...     check_geometry(line, kinds=("Point",), layer="sites", source="s.gpkg")
    ... except InputError as err:
    ...     print(str(err).split(";")[0])
    s.gpkg: sites geometry must be Point, got ['LineString'] (row 1)
    """
    geom = gdf.geometry
    missing = geom.isna() | geom.is_empty
    if missing.any():
        raise InputError(
            f"{source}: {missing.sum()} {layer} feature(s) have no geometry "
            f"({describe_rows(missing)}); "
            "give every feature a geometry or remove those rows"
        )
    types = geom.geom_type
    wrong = ~types.isin(kinds)
    if wrong.any():
        raise InputError(
            f"{source}: {layer} geometry must be {'/'.join(kinds)}, got "
            f"{sorted(set(types[wrong]))} ({describe_rows(wrong)}); convert or remove those "
            "features"
        )
    _check_finite(geom, layer, source)
    if gdf.crs.is_geographic:
        b = geom.bounds
        bad = (b.minx < -180) | (b.maxx > 180) | (b.miny < -90) | (b.maxy > 90)
        if bad.any():
            swapped = ((b.miny >= -180) & (b.maxy <= 180) & (b.minx >= -90) & (b.maxx <= 90))[bad]
            fix = "lon and lat look swapped; swap them" if swapped.all() else "fix the coordinates"
            raise InputError(
                f"{source}: {bad.sum()} feature(s) have coordinates outside lon -180..180 / "
                f"lat -90..90 ({describe_rows(bad)}), e.g. {geom[bad].iloc[0].wkt[:60]}; {fix}"
            )
    invalid = ~geom.is_valid
    if invalid.any():
        repaired = shapely.make_valid(geom[invalid].to_numpy())
        if kinds != ("Point",):
            repaired = np.array([_same_kind(g, kinds) for g in repaired], dtype=object)
        gdf.loc[invalid, gdf.geometry.name] = repaired
        warnings.warn(
            f"{source}: repaired {invalid.sum()} invalid {layer} geometr"
            f"{'y' if invalid.sum() == 1 else 'ies'} with make_valid ({describe_rows(invalid)})",
            GeoDxWarning,
            stacklevel=4,
        )
    return gdf


def _check_finite(geom: gpd.GeoSeries, layer: str, source: str) -> None:
    """Refuse NaN/infinite coordinates and projected coordinates far off the Earth."""
    coords, owner = shapely.get_coordinates(geom.to_numpy(), return_index=True)
    bad = np.zeros(len(geom), dtype=bool)
    bad[owner[~np.isfinite(coords).all(axis=1)]] = True
    what = "NaN or infinite coordinates"
    if not bad.any() and not geom.crs.is_geographic:
        lonlat = shapely.get_coordinates(
            geom.representative_point().to_crs(4326).to_numpy()
        )
        bad = ~(np.isfinite(lonlat).all(axis=1) & (np.abs(lonlat[:, 0]) <= 180)
                & (np.abs(lonlat[:, 1]) <= 90))
        what = f"coordinates that are not on the Earth in their CRS ({geom.crs.name})"
    if bad.any():
        example = geom[bad].iloc[0].wkt[:60]
        raise InputError(
            f"{source}: {int(bad.sum())} {layer} feature(s) have {what} "
            f"({describe_rows(bad)}), e.g. {example}; fix those coordinates or the layer's CRS"
        )


def _same_kind(geom: shapely.Geometry, kinds: tuple[str, ...]) -> shapely.Geometry:
    """Keep the polygonal (or linear) part of a repaired geometry: make_valid can add
    lines to a polygon, points to a line."""
    if geom.geom_type in kinds:
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in kinds]
    return shapely.union_all(parts) if parts else geom
