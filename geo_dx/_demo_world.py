"""Terrain, rivers, communes, villages, towns and roads of the synthetic demo province.

Private helper of :mod:`geo_dx.demo`; everything here is invented from a seeded
random generator and never describes a real place.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio.features import rasterize
from scipy.ndimage import distance_transform_edt, gaussian_filter, zoom
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from skimage.graph import MCP_Geometric

#: Projected CRS the demo is built in (UTM zone 48N); vectors are written in EPSG:4326.
DEMO_CRS = "EPSG:32648"
#: Value of the ``province`` column of the demo communes.
DEMO_PROVINCE = "Synthetic province"
_CENTRE_LONLAT = (103.0, 21.4)
_AREA_KM2 = 9500.0
_COMMUNES = 45
_VILLAGES = 1650
CELL_M = 100.0
_ROAD_CELL_M = 400.0
_HEADS = (
    "Nậm", "Huổi", "Pá", "Co", "Phiêng", "Hua", "Pú", "Háng", "Sín", "Na", "Noong", "Tà",
    "Xá", "Pom", "Khó", "Lả", "Hin", "Nà", "Chiềng", "Lũng", "Tìa", "Púng", "Phì", "Tên",
    "Mạy", "Ten", "Kéo", "Pắc", "Cò", "Long",
)
_TAILS = (
    "Khè", "Sơ", "Lếch", "Chạn", "Pục", "Hẹ", "Ngám", "Ló", "Vang", "Lúm", "Pâu", "Củm",
    "Chả", "Tong", "Bó", "Mì", "Xinh", "Dưn", "Hỏm", "Kè", "Ún", "Luông", "Nọi", "Tở",
    "Mòn", "Sảo", "Cáy", "Cang", "Nhè", "Há", "Khá", "Piềng", "Sáng", "Mạ", "Xôm", "Thín",
    "Lịch", "Chua", "Phạ", "Lỏm", "Hừa", "Pợ", "Đông", "Khoang", "Tấu", "Lạn",
)
_THON = (
    "Tân Lập", "Tân Thành", "Thanh Bình", "Hợp Thành", "Quyết Tiến", "Tân Tiến", "Đồng Tâm",
    "Bình Minh", "Hòa Bình", "Tân Hương", "Thống Nhất", "Tiến Bộ",
)
#: Combinations of the parts above that are real commune names in Điện Biên or Sơn La.
_REAL_NAMES = frozenset({"Chiềng Sơ", "Co Mạ", "Long Hẹ", "Nà Tấu", "Nậm Kè"})


@dataclass
class World:
    """The generated landscape in :data:`DEMO_CRS` metres, with the generator that made it."""

    rng: np.random.Generator
    size: float
    outline: Polygon
    transform: Affine
    elevation_m: np.ndarray
    valley: np.ndarray  # distance to the nearest river, in valley widths
    rivers: list[tuple[int, LineString]]
    capital: Point

    def sample(self, xy: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
        """Value of ``grid`` (default the elevation) in the cell under each point (n, 2)."""
        grid = self.elevation_m if grid is None else grid
        cols, rows = ~self.transform @ (xy[:, 0], xy[:, 1])
        r = np.clip(np.asarray(rows).astype(int), 0, grid.shape[0] - 1)
        c = np.clip(np.asarray(cols).astype(int), 0, grid.shape[1] - 1)
        return grid[r, c]


def build_world(rng: np.random.Generator, size: float) -> World:
    """Outline, rivers, capital site and DEM of a province of ``size`` × 9,500 km²."""
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", DEMO_CRS, always_xy=True)
    cx, cy = to_utm.transform(*_CENTRE_LONLAT)
    outline = _outline(rng, cx, cy, _AREA_KM2 * 1e6 * size)
    minx, miny, maxx, maxy = outline.buffer(3000).bounds
    minx, miny = np.floor(minx / 1000) * 1000, np.floor(miny / 1000) * 1000
    width = int(np.ceil((maxx - minx) / CELL_M))
    height = int(np.ceil((maxy - miny) / CELL_M))
    transform = Affine(CELL_M, 0, minx, 0, -CELL_M, miny + height * CELL_M)
    rivers = _rivers(rng, outline)
    capital = _capital_site(outline, rivers)
    valley = _valley_distance((height, width), transform, rivers)
    elevation = _elevation(rng, transform, valley, capital, outline)
    return World(rng, size, outline, transform, elevation, valley, rivers, capital)


def _outline(rng: np.random.Generator, cx: float, cy: float, area_m2: float) -> Polygon:
    """An irregular star-shaped outline, elongated north-south, of exactly ``area_m2``."""
    theta = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    r = 1.0 + 0.18 * np.cos(2 * (theta - np.pi / 2))
    for k in range(3, 16):
        r += rng.normal(0, 0.22 / k**1.2) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    poly = Polygon(np.c_[np.cos(theta) * r, np.sin(theta) * r]).buffer(0)
    scale = np.sqrt(area_m2 / poly.area)
    return shapely.affinity.affine_transform(poly, [scale, 0, 0, scale, cx, cy])


def _meander(rng: np.random.Generator, start: np.ndarray, heading: float, length_m: float,
             bounds: tuple[float, ...], *, wiggle: float = 0.1) -> LineString:
    pts, h, drift = [start], heading, 0.0
    for _ in range(int(length_m / 400)):
        drift = 0.8 * drift + rng.normal(0, wiggle)
        h += drift - 0.2 * (h - heading)
        nxt = pts[-1] + 400 * np.array([np.cos(h), np.sin(h)])
        if not (bounds[0] <= nxt[0] <= bounds[2] and bounds[1] <= nxt[1] <= bounds[3]):
            break
        pts.append(nxt)
    return LineString(pts)


def _rivers(rng: np.random.Generator, outline: Polygon) -> list[tuple[int, LineString]]:
    """Two main rivers running north-west to south-east, tributaries at regular
    intervals on alternate banks, and their own tributaries."""
    minx, miny, maxx, maxy = bounds = outline.buffer(3000).bounds
    span = max(maxx - minx, maxy - miny)
    w, h = maxx - minx, maxy - miny
    rivers = [
        (0, _meander(rng, np.array([minx, maxy - 0.25 * h]), -0.5, 3 * span, bounds,
                     wiggle=0.05)),
        (0, _meander(rng, np.array([minx + 0.55 * w, maxy]), -np.pi / 2 - 0.2, 3 * span,
                     bounds, wiggle=0.05)),
    ]
    inside = outline.buffer(-1000)
    for order, spacing, length in ((1, 11_000.0, 0.35), (2, 9_000.0, 0.12)):
        for parent in [ln for o, ln in rivers if o == order - 1]:
            side = rng.choice([-1, 1])
            for at in np.arange(spacing / 2, parent.length - 500, spacing):
                at += rng.uniform(-0.3, 0.3) * spacing
                side = -side
                p = np.asarray(parent.interpolate(at).coords[0])
                if not inside.contains(Point(p)):
                    continue
                q = np.asarray(parent.interpolate(min(at + 400, parent.length)).coords[0])
                head = np.arctan2(*(q - p)[::-1]) + side * rng.uniform(1.0, 1.6)
                ln = _meander(rng, p, head, rng.uniform(0.6, 1.4) * length * span, bounds)
                if ln.length > 3000:
                    rivers.append((order, ln))
    return rivers


def _capital_site(outline: Polygon, rivers: list[tuple[int, LineString]]) -> Point:
    """A point on a tributary well inside the province, south-west of its centre."""
    c = outline.centroid
    target = Point(c.x - 0.15 * np.sqrt(outline.area), c.y - 0.1 * np.sqrt(outline.area))
    inner = outline.buffer(-0.15 * np.sqrt(outline.area))
    best, best_d = c, np.inf
    for order, ln in rivers:
        if order != 1:
            continue
        for at in np.arange(0, ln.length, 500):
            p = ln.interpolate(at)
            if inner.contains(p) and p.distance(target) < best_d:
                best, best_d = p, p.distance(target)
    return best


def _valley_distance(shape: tuple[int, int], transform: Affine,
                     rivers: list[tuple[int, LineString]]) -> np.ndarray:
    """Distance to the nearest river in units of that river's valley half-width."""
    out = np.full(shape, np.inf)
    for order, width_m in ((0, 2600.0), (1, 1800.0), (2, 1100.0)):
        lines = [ln for o, ln in rivers if o == order]
        if not lines:
            continue
        mask = rasterize(lines, out_shape=shape, transform=transform, all_touched=True)
        dist = distance_transform_edt(mask == 0, sampling=CELL_M)
        out = np.minimum(out, dist / width_m)
    return out


def _noise(rng: np.random.Generator, shape: tuple[int, int], scale_m: float) -> np.ndarray:
    """Smooth Gaussian noise with unit variance and correlation length ``scale_m``."""
    step = max(1, int(scale_m / CELL_M / 4))
    small = rng.standard_normal((shape[0] // step + 4, shape[1] // step + 4))
    field = gaussian_filter(small, scale_m / CELL_M / step, mode="reflect")
    if step > 1:
        field = zoom(field, step, order=1)
    field = field[: shape[0], : shape[1]]
    return (field - field.mean()) / field.std()


def _elevation(rng: np.random.Generator, transform: Affine, valley: np.ndarray,
               capital: Point, outline: Polygon) -> np.ndarray:
    """Valley floors of 300-800 m rising to ridges of 1,200-2,500 m."""
    shape = valley.shape
    rows, cols = np.mgrid[0: shape[0], 0: shape[1]]
    xs, ys = transform @ (cols + 0.5, rows + 0.5)
    floor = 330 + 80 * _noise(rng, shape, 20_000) + 12 * np.minimum(valley, 25)
    relief = np.clip(1050 + 330 * _noise(rng, shape, 14_000), 400, 1900)
    ridged = 1 - np.abs(_noise(rng, shape, 2500))
    rise = 1 - np.exp(-(valley**1.4))
    elev = floor + rise * (relief + 260 * ridged) + 30 * _noise(rng, shape, 400) * rise
    # A wide flat basin around the capital, like the Mường Thanh plain.
    u, v = xs - capital.x, ys - capital.y
    a, b = (u * 0.8 + v * 0.6) / 9000, (-u * 0.6 + v * 0.8) / 4000
    basin = np.exp(-((a**2 + b**2) ** 2))
    elev = elev * (1 - basin) + (470 + 10 * ridged) * basin
    return np.clip(elev, 280, 2550).astype(np.float32)


# ----------------------------------------------------------------- settlements


def place_seats(world: World) -> gpd.GeoDataFrame:
    """Capital, two more town wards, and commune seats spread over valley floors."""
    rng, n = world.rng, max(4, round(_COMMUNES * world.size))
    rows, cols = np.nonzero((world.valley < 0.35) & (world.elevation_m < 1300))
    pick = rng.choice(len(rows), size=min(len(rows), 30_000), replace=False)
    xs, ys = world.transform @ (cols[pick] + 0.5, rows[pick] + 0.5)
    cand = np.c_[xs, ys]
    inner = world.outline.buffer(-2500)
    cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
    cap = np.array([world.capital.x, world.capital.y])
    d_cap = np.hypot(*(cand - cap).T)
    ring = cand[(d_cap > 2500) & (d_cap < 4500)]
    chosen = [cap, ring[0]]
    chosen.append(ring[np.argmax(np.hypot(*(ring - ring[0]).T))])
    dmin = np.min([np.hypot(*(cand - c).T) for c in chosen], axis=0)
    while len(chosen) < n:
        top = np.argsort(dmin)[-4:]
        c = cand[rng.choice(top)]
        chosen.append(c)
        dmin = np.minimum(dmin, np.hypot(*(cand - c).T))
    kind = ["capital"] + ["commune_seat"] * (n - 1)
    return gpd.GeoDataFrame({"kind": kind}, geometry=gpd.points_from_xy(*np.array(chosen).T),
                            crs=DEMO_CRS)


def _invented(rng: np.random.Generator) -> str:
    """A place name in the local style that is not a real commune of the region."""
    while True:
        name = f"{rng.choice(_HEADS)} {rng.choice(_TAILS)}"
        if name not in _REAL_NAMES:
            return name


def _names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        name = _invented(rng)
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def make_communes(world: World, seats: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Voronoi cells of the seats clipped to the outline; stray pieces join a neighbour."""
    cells = shapely.voronoi_polygons(MultiPoint(seats.geometry.tolist()),
                                     extend_to=world.outline.buffer(20_000), ordered=True)
    polys = [g.intersection(world.outline) for g in cells.geoms]
    for i, poly in enumerate(polys):
        if poly.geom_type != "Polygon":
            parts = sorted(poly.geoms, key=lambda p: p.contains(seats.geometry.iloc[i]))
            polys[i] = parts[-1]
            for part in parts[:-1]:
                j = max((j for j in range(len(polys)) if j != i),
                        key=lambda j: polys[j].intersection(part.buffer(1)).area)
                polys[j] = shapely.union(polys[j], part).buffer(0)
    n = len(seats)
    names = _names(world.rng, n, set())
    unit = ["Phường"] * 3 + ["Xã"] * (n - 3)
    return gpd.GeoDataFrame(
        {
            "commune_id": [f"SYN{i + 1:02d}" for i in range(n)],
            "commune_name": [f"{u} {nm}" for u, nm in zip(unit, names, strict=True)],
            "province": DEMO_PROVINCE,
        },
        geometry=polys, crs=DEMO_CRS,
    )


def place_villages(world: World, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Villages mostly on valley floors, some on upland slopes, at least 600 m apart."""
    rng, n = world.rng, round(_VILLAGES * world.size)
    elev = world.elevation_m
    gy, gx = np.gradient(elev, CELL_M)
    slope = np.hypot(gx, gy)
    weight = np.exp(-1.6 * world.valley) * (slope < 0.35)
    weight += 0.10 * np.exp(-(((elev - 1250) / 280) ** 2)) * (slope < 0.3)
    weight *= elev < 1900
    mask = rasterize([world.outline.buffer(-200)], out_shape=elev.shape,
                     transform=world.transform)
    weight = (weight * mask).ravel()
    idx = rng.choice(weight.size, size=6 * n, p=weight / weight.sum())
    rows, cols = np.divmod(idx, elev.shape[1])
    jitter = rng.uniform(0, 1, size=(2, idx.size))
    xs, ys = world.transform @ (cols + jitter[0], rows + jitter[1])
    accepted: list[tuple[float, float]] = []
    grid: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for x, y in zip(xs, ys, strict=True):
        key = (int(x // 600), int(y // 600))
        near = [p for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                for p in grid.get((key[0] + dx, key[1] + dy), ())]
        if all((x - px) ** 2 + (y - py) ** 2 >= 600**2 for px, py in near):
            accepted.append((x, y))
            grid.setdefault(key, []).append((x, y))
            if len(accepted) == n:
                break
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*np.array(accepted).T), crs=DEMO_CRS)
    joined = gpd.sjoin(pts, communes[["commune_id", "geometry"]], predicate="within",
                       how="left")
    joined = joined[~joined.index.duplicated()].dropna(subset=["commune_id"])
    joined["_y"] = -joined.geometry.y
    joined = joined.sort_values(["commune_id", "_y"], kind="stable").reset_index(drop=True)
    joined["village_id"] = [f"SYNV{i + 1:04d}" for i in range(len(joined))]
    return joined[["village_id", "commune_id", "geometry"]]


def make_towns(seats: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Towns layer: the capital and every commune seat, named after their commune (the
    capital by its phường's name: since 1/7/2025 there is no "thành phố" around it)."""
    towns = seats.copy()
    towns["commune_id"] = communes["commune_id"].to_numpy()
    names = communes["commune_name"].str.split(" ", n=1).str[1]
    unit = communes["commune_name"].str.split(" ", n=1).str[0].str.lower()
    towns["name"] = np.where(towns["kind"] == "capital", communes["commune_name"],
                             "Trung tâm " + unit + " " + names)
    return towns[["name", "kind", "commune_id", "geometry"]]


def make_roads(world: World, seats: gpd.GeoDataFrame, villages: gpd.GeoDataFrame
           ) -> gpd.GeoDataFrame:
    """Main roads linking the towns along valleys (Prim's tree over travel cost), then
    local roads from the better-placed villages to the nearest road."""
    cost, coarse = _road_cost(world)
    h, w = cost.shape
    to_cell = ~coarse

    def cell(p: Point) -> tuple[int, int]:
        c, r = to_cell @ (p.x, p.y)
        return min(max(int(r), 0), h - 1), min(max(int(c), 0), w - 1)

    on_road = np.zeros((h, w), dtype=bool)
    lines: list[tuple[str, list[tuple[int, int]]]] = []
    seat_cells = [cell(p) for p in seats.geometry]
    on_road[seat_cells[0]] = True
    todo = list(range(1, len(seat_cells)))
    while todo:
        mcp = MCP_Geometric(cost)
        costs, _ = mcp.find_costs(np.argwhere(on_road))
        nxt = min(todo, key=lambda i: costs[seat_cells[i]])
        todo.remove(nxt)
        path = mcp.traceback(seat_cells[nxt])
        lines.append(("main", path))
        on_road[tuple(np.array(path).T)] = True
    mcp = MCP_Geometric(cost)
    costs, _ = mcp.find_costs(np.argwhere(on_road))
    vcells = [cell(p) for p in villages.geometry]
    vcost = np.array([costs[c] for c in vcells])
    for i in np.argsort(vcost)[: int(0.62 * len(vcells))]:
        path = mcp.traceback(vcells[i])[::-1]
        for k, rc in enumerate(path):
            if on_road[rc]:
                path = path[: k + 1]
                break
        if len(path) > 1:
            lines.append(("local", path[::-1]))
            on_road[tuple(np.array(path).T)] = True
    geoms = [_chaikin(_cell_centres(coarse, path)) for _, path in lines]
    kinds = [k for k, _ in lines]
    return gpd.GeoDataFrame(
        {"road_id": [f"SYNR{i + 1:04d}" for i in range(len(lines))], "kind": kinds},
        geometry=geoms, crs=DEMO_CRS,
    )


def make_tracks(world: World, villages: gpd.GeoDataFrame, roads: gpd.GeoDataFrame
                ) -> gpd.GeoDataFrame:
    """Access tracks (``kind = "track"``) from every village off the road network to the
    nearest road or track, over the same travel cost as the roads.

    Villages are joined cheapest first, each by its least-cost path cut where it meets a
    road or an earlier track, so the tracks form trees hanging from the roads (like the
    provinces' "đường liên thôn, liên bản"). A track ends at the village itself. Villages
    whose road cell (400 m) a road already crosses get none. Uses no random numbers.
    """
    cost, coarse = _road_cost(world)
    h, w = cost.shape
    on_road = rasterize(list(roads.geometry), out_shape=(h, w), transform=coarse,
                        all_touched=True).astype(bool)
    mcp = MCP_Geometric(cost)
    costs, _ = mcp.find_costs(np.argwhere(on_road))
    cols, rows = ~coarse @ (villages.geometry.x.to_numpy(), villages.geometry.y.to_numpy())
    vcells = list(zip(np.clip(rows.astype(int), 0, h - 1), np.clip(cols.astype(int), 0, w - 1),
                      strict=True))
    vcost = np.array([costs[c] for c in vcells])
    geoms = []
    for i in np.argsort(vcost, kind="stable"):
        if on_road[vcells[i]] or not np.isfinite(vcost[i]):
            continue
        path = mcp.traceback(vcells[i])[::-1]
        for k, rc in enumerate(path):
            if on_road[rc]:
                path = path[: k + 1]
                break
        on_road[tuple(np.array(path).T)] = True
        v = villages.geometry.iloc[i]
        xy = np.vstack([_cell_centres(coarse, path[::-1]), [[v.x, v.y]]])
        geoms.append(_chaikin(xy))
    start = len(roads)
    return gpd.GeoDataFrame(
        {"road_id": [f"SYNR{start + i + 1:04d}" for i in range(len(geoms))],
         "kind": "track"},
        geometry=geoms, crs=DEMO_CRS,
    )


def join_roads(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Connect each road to the network where it was built from: its first point is joined
    by a short stretch to the nearest point of an earlier road, which gains a vertex there.

    Roads are built as grid paths starting in a cell an earlier road crosses, then
    smoothed, so they would otherwise only come near each other; with a shared vertex a
    router over the road graph (:mod:`geo_dx.plan.routes`) can pass from one to the
    other, as on real, noded road data. Shapes are unchanged apart from the added stretch.
    """
    lines = [np.asarray(g.coords) for g in roads.geometry]
    tree = shapely.STRtree(roads.geometry.values)
    for i in range(1, len(lines)):
        start = Point(lines[i][0])
        near = [j for j in tree.query(start, predicate="dwithin", distance=600.0) if j < i]
        pool = near or range(i)
        j = min(pool, key=lambda k: LineString(lines[k]).distance(start))
        host = LineString(lines[j])
        at = host.project(start)
        xy = np.asarray(host.interpolate(at).coords[0])
        cum = np.r_[0, np.cumsum(np.hypot(*np.diff(lines[j], axis=0).T))]
        k = int(np.clip(np.searchsorted(cum, at), 1, len(cum) - 1))
        if not (np.array_equal(lines[j][k - 1], xy) or np.array_equal(lines[j][k], xy)):
            lines[j] = np.insert(lines[j], k, xy, axis=0)
        if not np.array_equal(lines[i][0], xy):
            lines[i] = np.vstack([xy, lines[i]])
    return roads.set_geometry([LineString(xy) for xy in lines], crs=roads.crs)


def _road_cost(world: World) -> tuple[np.ndarray, Affine]:
    """Cost of building a road across each 400 m cell (slope, altitude, outside the
    province), and the transform of that grid."""
    f = int(_ROAD_CELL_M / CELL_M)
    h, w = (s // f for s in world.elevation_m.shape)
    elev = world.elevation_m[: h * f, : w * f].reshape(h, f, w, f).mean(axis=(1, 3))
    gy, gx = np.gradient(elev, _ROAD_CELL_M)
    coarse = world.transform @ Affine.scale(f)
    inside = rasterize([world.outline], out_shape=(h, w), transform=coarse)
    cost = (1 + (np.hypot(gx, gy) / 0.07) ** 2 + (elev / 900) ** 2) * np.where(inside, 1, 4)
    return cost, coarse


def _cell_centres(coarse: Affine, path: list[tuple[int, int]]) -> np.ndarray:
    rc = np.array(path, dtype=float) + 0.5
    xs, ys = coarse @ (rc[:, 1], rc[:, 0])
    return np.c_[xs, ys]


def _chaikin(xy: np.ndarray, rounds: int = 2) -> LineString:
    for _ in range(rounds):
        if len(xy) < 3:
            break
        q = 0.75 * xy[:-1] + 0.25 * xy[1:]
        r = 0.25 * xy[:-1] + 0.75 * xy[1:]
        xy = np.vstack([xy[:1], np.c_[q, r].reshape(-1, 2), xy[-1:]])
    return LineString(xy) if len(xy) > 1 else LineString([xy[0], xy[0] + 1])


def village_attributes(world: World, villages: gpd.GeoDataFrame, towns: gpd.GeoDataFrame,
                roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Population, ethnic-minority share, poverty and 'especially difficult' flags that
    rise with altitude and distance from towns and roads; names."""
    rng = world.rng
    out = villages.copy()
    xy = np.c_[out.geometry.x, out.geometry.y]
    elev = world.sample(xy)
    d_road = shapely.distance(out.geometry.values, shapely.union_all(roads.geometry.values))
    town_xy = np.c_[towns.geometry.x, towns.geometry.y]
    d_town = cKDTree(town_xy).query(xy)[0]
    d_cap = np.hypot(*(xy - town_xy[0]).T)
    remote = (0.5 * np.clip((elev - 400) / 1100, 0, 1) + 0.3 * np.clip(d_road / 5000, 0, 1)
              + 0.2 * np.clip(d_town / 12_000, 0, 1))
    pop = rng.lognormal(np.log(330), 0.5, len(out)) * (1 - 0.4 * remote)
    pop *= np.where(d_cap < 4000, 2.8, np.where(d_town < 2000, 1.6, 1.0))
    pop = np.clip(np.rint(pop), 50, 4000)
    ethnic = _sigmoid(-0.2 + 6.0 * remote + 0.8 * rng.standard_normal(len(out))
                      - 3.0 * np.exp(-d_cap / 4000))
    hh_size = 4.0 + 1.4 * ethnic + rng.normal(0, 0.25, len(out))
    poverty = _sigmoid(-3.4 + 2.0 * ethnic + 3.0 * remote + 0.5 * rng.standard_normal(len(out)))
    hardship = remote + 0.3 * ethnic + 0.12 * rng.standard_normal(len(out))
    out["village_name"] = _village_names(rng, out["commune_id"].to_numpy(), ethnic, d_cap)
    out["population"] = pop.astype(np.int64)
    out["households"] = np.maximum(1, np.rint(pop / hh_size)).astype(np.int64)
    out["ethnic_minority_share"] = np.round(ethnic, 3)
    out["poverty_rate"] = np.round(np.clip(poverty, 0.01, 0.95), 3)
    out["especially_difficult"] = hardship >= np.quantile(hardship, 0.85)
    out["_remote"] = remote
    out["_road_m"] = d_road
    return out[["village_id", "village_name", "commune_id", "population", "households",
                "ethnic_minority_share", "poverty_rate", "especially_difficult",
                "_remote", "_road_m", "geometry"]]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _village_names(rng: np.random.Generator, commune_ids: np.ndarray, ethnic: np.ndarray,
                   d_cap: np.ndarray) -> list[str]:
    names: list[str] = []
    taken: dict[str, set[str]] = {}
    for cid, share, dc in zip(commune_ids, ethnic, d_cap, strict=True):
        seen = taken.setdefault(cid, set())
        if share < 0.4 and dc < 4500:
            name = f"Tổ dân phố {sum(n.startswith('Tổ') for n in seen) + 1}"
        elif share < 0.35:
            name = f"Thôn {rng.choice(_THON)}"
        else:
            name = f"Bản {_invented(rng)}"
        base, k = name, 1
        while name in seen:
            k += 1
            name = f"{base} {k}"
        seen.add(name)
        names.append(name)
    return names


def commune_attributes(communes: gpd.GeoDataFrame, villages: gpd.GeoDataFrame
                        ) -> gpd.GeoDataFrame:
    """Commune population and population-weighted ethnic share and poverty rate."""
    out = communes.copy()
    v = villages.assign(
        _eth=villages["ethnic_minority_share"] * villages["population"],
        _pov=villages["poverty_rate"] * villages["population"],
    ).groupby("commune_id")[["population", "_eth", "_pov"]].sum()
    v = v.reindex(out["commune_id"]).fillna(0)
    pop = v["population"].to_numpy(dtype=float)
    out["population"] = pop
    with np.errstate(invalid="ignore", divide="ignore"):
        out["ethnic_minority_share"] = np.round(v["_eth"].to_numpy() / pop, 3)
        out["poverty_rate"] = np.round(v["_pov"].to_numpy() / pop, 3)
    return out


def blank_some_communes(world: World, villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Leave ~3% of commune_id blank so that assignment by location is exercised."""
    out = villages.copy()
    blank = world.rng.random(len(out)) < 0.03
    out["commune_id"] = out["commune_id"].astype(object).where(~blank, None)
    return out


#: Share of the demo's villages, the remotest, without grid electricity: 42 of 1,650, 16 of
#: them among the 86 without mobile broadband (nationally 117 of the 717 villages without
#: mobile broadband had no grid power).
NO_GRID_SHARE = 0.025


def grid_power(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``has_grid_power``: false for the remotest :data:`NO_GRID_SHARE` of the villages.

    Uses no random numbers, so every other layer is the same with or without it.
    """
    remote = villages["_remote"].to_numpy()
    return villages.assign(has_grid_power=remote < np.quantile(remote, 1 - NO_GRID_SHARE))


def hilltop(world: World, x: float, y: float, radius_m: float = 700) -> tuple[float, float]:
    """Highest cell within ``radius_m`` of (x, y)."""
    col, row = ~world.transform @ (x, y)
    k = int(radius_m / CELL_M)
    r0, c0 = max(int(row) - k, 0), max(int(col) - k, 0)
    win = world.elevation_m[r0: int(row) + k + 1, c0: int(col) + k + 1]
    r, c = np.unravel_index(np.argmax(win), win.shape)
    return world.transform @ (c0 + c + 0.5, r0 + r + 0.5)
