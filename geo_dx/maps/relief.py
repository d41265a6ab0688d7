"""Relief shading of a DEM as a small image layer for the offline maps.

Mountain provinces are read by their relief. :func:`hillshade` lights a DEM from the
north-west (the cartographic convention) and returns how brightly each cell is lit;
:func:`relief_image` turns that into a transparent overlay in Web Mercator: slopes facing
away from the light are darkened, slopes facing it are lightened, flat ground is left
clear, so the layer can sit on top of any background. The image is a palette PNG of a few
levels (a few hundred kB for a 9,500 km² province at 100 m), cropped per commune with
:meth:`ReliefImage.crop`.

Examples
--------
>>> import numpy as np
>>> flat = np.zeros((3, 3))
>>> round(float(hillshade(flat, cell_size_m=100.0)[1, 1]), 3)  # sin(45°)
0.707
"""

from __future__ import annotations

import base64
import logging
import math
import struct
import warnings
import zlib
from dataclasses import dataclass

import numpy as np
from affine import Affine

from geo_dx.dem import DemGrid
from geo_dx.errors import InputError

__all__ = ["ReliefImage", "hillshade", "relief_image"]

log = logging.getLogger(__name__)

#: Palette levels: transparent, then ``_SHADOW_LEVELS`` shades of black, ``_LIGHT_LEVELS``
#: of white. Few levels keep the PNG small; the eye does not tell more apart under colour.
_SHADOW_LEVELS = 12
_LIGHT_LEVELS = 4
_SHADOW_MAX_ALPHA = 150
_LIGHT_MAX_ALPHA = 90


def hillshade(
    elevation_m: np.ndarray,
    *,
    cell_size_m: float | tuple[float, float],
    azimuth_deg: float = 315.0,
    altitude_deg: float = 45.0,
    z_factor: float = 1.0,
) -> np.ndarray:
    """
    How brightly each cell of a DEM is lit by a distant light: ``cos`` of the angle between
    the surface normal and the light (0 = in shadow, 1 = facing the light).

    Parameters
    ----------
    elevation_m
        2-D elevations, rows north to south, columns west to east; NaN = no data.
    cell_size_m
        Cell size in metres, one number or ``(x_size, y_size)``.
    azimuth_deg
        Direction the light comes from, clockwise from north (315 = north-west).
    altitude_deg
        Height of the light above the horizon; flat ground gets ``sin(altitude)``.
    z_factor
        Vertical exaggeration.

    Returns
    -------
    numpy.ndarray
        Same shape, values in [0, 1]; NaN where the cell or a neighbour has no data.

    Examples
    --------
    A slope rising towards the south-east faces the north-west light and is brighter
    than flat ground:

    >>> rows, cols = np.mgrid[0:4, 0:4].astype(float)
    >>> facing = (rows + cols) * 50.0   # higher to the south and east
    >>> bool(hillshade(facing, cell_size_m=100.0)[1, 1] > math.sin(math.radians(45)))
    True
    """
    z = np.asarray(elevation_m, dtype=float)
    if z.ndim != 2:
        raise InputError(f"hillshade: elevation_m must be 2-D, got shape {z.shape}")
    dx, dy = (cell_size_m, cell_size_m) if np.isscalar(cell_size_m) else cell_size_m
    if not (dx > 0 and dy > 0):
        raise InputError(f"hillshade: cell_size_m must be > 0, got {cell_size_m!r}")
    if z.shape[0] < 2 or z.shape[1] < 2:
        return np.where(np.isnan(z), np.nan, math.sin(math.radians(altitude_deg)))
    d_row, d_col = np.gradient(z * z_factor)
    dz_east = d_col / dx
    dz_north = -d_row / dy  # rows run north to south
    az, alt = math.radians(azimuth_deg), math.radians(altitude_deg)
    light = (math.sin(az) * math.cos(alt), math.cos(az) * math.cos(alt), math.sin(alt))
    # Unit normal of z = f(x, y) is (-dz/dx, -dz/dy, 1) / norm.
    norm = np.sqrt(dz_east**2 + dz_north**2 + 1.0)
    lit = (-dz_east * light[0] - dz_north * light[1] + light[2]) / norm
    return np.where(np.isnan(z), np.nan, np.clip(lit, 0.0, 1.0))


@dataclass(frozen=True)
class ReliefImage:
    """
    A relief overlay on a Web Mercator grid: palette indices and their placement.

    Attributes
    ----------
    levels
        ``uint8`` palette indices, rows north to south (0 = transparent).
    transform
        Affine transform of the grid in EPSG:3857 metres.
    """

    levels: np.ndarray
    transform: Affine

    @property
    def bounds_latlon(self) -> list[list[float]]:
        """``[[south, west], [north, east]]`` in degrees, as Leaflet wants them."""
        return _bounds_latlon(self.transform, *self.levels.shape)

    def png_uri(self) -> str:
        """The whole image as a ``data:image/png;base64,...`` URI."""
        return _palette_png(self.levels)

    def crop(
        self, lonlat_bounds: tuple[float, float, float, float], *, pad_deg: float = 0.02
    ) -> ReliefImage | None:
        """
        The part of the image over ``(west, south, east, north)`` plus ``pad_deg``, or
        ``None`` when it does not overlap.

        Examples
        --------
        >>> from geo_dx.dem import read_dem
        >>> from geo_dx.demo import demo_paths
        >>> img = relief_image(read_dem(demo_paths().dem), max_px=400)
        >>> img.levels.shape, img.crop((103.0, 21.3, 103.1, 21.4)).levels.shape
        ((353, 260), (40, 37))
        >>> img.crop((0.0, 0.0, 1.0, 1.0)) is None  # far from the DEM
        True
        """
        from pyproj import Transformer

        west, south, east, north = lonlat_bounds
        to_merc = Transformer.from_crs(4326, 3857, always_xy=True)
        x0, y0 = to_merc.transform(west - pad_deg, south - pad_deg)
        x1, y1 = to_merc.transform(east + pad_deg, north + pad_deg)
        inv = ~self.transform
        c0, r0 = inv @ (x0, y1)
        c1, r1 = inv @ (x1, y0)
        rows, cols = self.levels.shape
        r0, c0 = max(0, math.floor(r0)), max(0, math.floor(c0))
        r1, c1 = min(rows, math.ceil(r1)), min(cols, math.ceil(c1))
        if r0 >= r1 or c0 >= c1:
            return None
        return ReliefImage(self.levels[r0:r1, c0:c1].copy(),
                           self.transform @ Affine.translation(c0, r0))


def relief_image(dem: DemGrid, *, max_px: int = 1400, z_factor: float = 1.5) -> ReliefImage:
    """
    Shade a DEM and warp the shading to Web Mercator as a transparent palette image.

    Parameters
    ----------
    dem
        The elevation grid (any projected CRS).
    max_px
        Longest side of the image; a larger DEM is averaged down first.
    z_factor
        Vertical exaggeration of the shading (relief reads better slightly exaggerated).

    Returns
    -------
    ReliefImage

    Examples
    --------
    >>> from geo_dx.dem import read_dem
    >>> from geo_dx.demo import demo_paths
    >>> img = relief_image(read_dem(demo_paths().dem), max_px=400)
    >>> max(img.levels.shape) <= 400, img.png_uri().startswith("data:image/png;base64,")
    (True, True)
    """
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    if max_px < 2:
        raise InputError(f"relief_image: max_px must be >= 2, got {max_px}")
    z, transform = _downsample(dem.elevation_m, dem.transform, max_px)
    lit = hillshade(z, cell_size_m=(abs(transform.a), abs(transform.e)), z_factor=z_factor)
    rows, cols = lit.shape
    left, top = transform.c, transform.f
    right, bottom = left + transform.a * cols, top + transform.e * rows
    dst_transform, width, height = calculate_default_transform(
        dem.crs, "EPSG:3857", cols, rows, left=left, bottom=bottom, right=right, top=top)
    scale = max(width, height) / max_px
    if scale > 1:
        width, height = max(1, int(width / scale)), max(1, int(height / scale))
        dst_transform = dst_transform @ Affine.scale(scale)
    out = np.full((height, width), np.nan)
    reproject(lit, out, src_transform=transform, src_crs=dem.crs, src_nodata=np.nan,
              dst_transform=dst_transform, dst_crs="EPSG:3857", dst_nodata=np.nan,
              resampling=Resampling.bilinear)
    flat = math.sin(math.radians(45.0))
    return ReliefImage(_levels(out, flat=flat), dst_transform)


def _downsample(z: np.ndarray, transform: Affine, max_px: int) -> tuple[np.ndarray, Affine]:
    """Block-average ``z`` by an integer factor so its longest side is at most ``max_px``."""
    factor = math.ceil(max(z.shape) / max_px)
    if factor <= 1:
        return z, transform
    rows, cols = (z.shape[0] // factor) * factor, (z.shape[1] // factor) * factor
    blocks = z[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-nodata blocks stay NaN
        out = np.nanmean(blocks, axis=(1, 3))
    return out, transform @ Affine.scale(factor)


def _levels(lit: np.ndarray, *, flat: float) -> np.ndarray:
    """Palette index per cell: 0 clear (no data or flat), then shadow, then light levels."""
    shadow = np.clip((flat - lit) / flat, 0.0, 1.0)
    light = np.clip((lit - flat) / (1.0 - flat), 0.0, 1.0)
    out = np.zeros(lit.shape, dtype=np.uint8)
    s = np.rint(np.nan_to_num(shadow) * _SHADOW_LEVELS).astype(np.uint8)
    li = np.rint(np.nan_to_num(light) * _LIGHT_LEVELS).astype(np.uint8)
    out = np.where(s > 0, s, out)
    out = np.where((s == 0) & (li > 0), _SHADOW_LEVELS + li, out)
    out[np.isnan(lit)] = 0
    return out.astype(np.uint8)


def _palette() -> tuple[bytes, bytes]:
    rgb, alpha = [0, 0, 0], [0]
    for i in range(1, _SHADOW_LEVELS + 1):
        rgb += [0, 0, 0]
        alpha.append(round(_SHADOW_MAX_ALPHA * i / _SHADOW_LEVELS))
    for i in range(1, _LIGHT_LEVELS + 1):
        rgb += [255, 255, 255]
        alpha.append(round(_LIGHT_MAX_ALPHA * i / _LIGHT_LEVELS))
    return bytes(rgb), bytes(alpha)


def _palette_png(levels: np.ndarray) -> str:
    """An 8-bit palette PNG as a data URI (no row filter: few levels compress well as is)."""
    height, width = levels.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 starts each row
    raw[:, 1:] = levels

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    rgb, alpha = _palette()
    png = b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
        chunk(b"PLTE", rgb),
        chunk(b"tRNS", alpha),
        chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)),
        chunk(b"IEND", b""),
    ])
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _bounds_latlon(transform: Affine, rows: int, cols: int) -> list[list[float]]:
    from pyproj import Transformer

    west, north = transform.c, transform.f
    east, south = west + transform.a * cols, north + transform.e * rows
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    w, s = to_ll.transform(west, south)
    e, n = to_ll.transform(east, north)
    return [[round(s, 6), round(w, 6)], [round(n, 6), round(e, 6)]]
