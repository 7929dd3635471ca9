"""WGS-84 <-> GCJ-02 conversion and small geodesy helpers.

GCJ-02 ("Mars coordinates") is the obfuscated datum that Chinese map providers
(AutoNavi/Amap, Tencent, Aliyun DataV, ...) publish coordinates in. The forward
transform (WGS-84 -> GCJ-02) is the public, well-known polynomial/sine formula
on the Krasovsky ellipsoid (a = 6378245.0, e^2 = 0.00669342162296594323); in
Shenzhen it shifts points by roughly +0.0050 deg in longitude and -0.0027 deg
in latitude (about 500 m east and 300 m south).

There is no closed form for the inverse, so :func:`gcj02_to_wgs84` solves
``wgs84_to_gcj02(w) == g`` by fixed-point iteration (the Jacobian of the shift is
tiny, so each step gains ~3 digits); it converges to well below 1e-9 degrees, unlike
the common one-step "approximate" inverse which is only good to 1-2 metres.

Points outside the rough bounding box of China are returned unchanged, as the
de-facto reference implementations do.

All functions take and return (lon, lat) in degrees. The scalar functions are thin
wrappers around the vectorised numpy versions so both always agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
import shapely

__all__ = [
    "A_KRASOVSKY",
    "EE_KRASOVSKY",
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_array",
    "geometry_gcj02_to_wgs84",
    "geometry_wgs84_to_gcj02",
    "in_china",
    "meters_per_degree",
    "wgs84_to_gcj02",
    "wgs84_to_gcj02_array",
]

A_KRASOVSKY = 6378245.0
EE_KRASOVSKY = 0.00669342162296594323

# Rough bounding box used by the reference implementations for "inside China".
_CHINA_MIN_LON, _CHINA_MAX_LON = 72.004, 137.8347
_CHINA_MIN_LAT, _CHINA_MAX_LAT = 0.8293, 55.8271

# WGS-84 ellipsoid, for meters_per_degree.
_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3

_INVERSE_TOL_DEG = 1e-12
_INVERSE_MAX_ITER = 50


def _as_float_arrays(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    x, y = np.broadcast_arrays(x, y)
    return x, y


def in_china(lons, lats) -> np.ndarray:
    """Boolean mask: inside the rough China box where GCJ-02 differs from WGS-84."""
    x, y = _as_float_arrays(lons, lats)
    return (x >= _CHINA_MIN_LON) & (x <= _CHINA_MAX_LON) & (y >= _CHINA_MIN_LAT) & (y <= _CHINA_MAX_LAT)


def _shift(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS-84 position (lons, lats)."""
    x = lons - 105.0
    y = lats - 35.0
    pi = math.pi
    # Terms shared by both offsets.
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))

    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat = dlat + common
    dlat = dlat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat = dlat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0

    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon = dlon + common
    dlon = dlon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon = dlon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    radlat = lats / 180.0 * pi
    magic = np.sin(radlat)
    magic = 1.0 - EE_KRASOVSKY * magic * magic
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A_KRASOVSKY * (1.0 - EE_KRASOVSKY)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (A_KRASOVSKY / sqrt_magic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised WGS-84 -> GCJ-02. Returns new float64 arrays (lons, lats)."""
    x, y = _as_float_arrays(lons, lats)
    out_x = np.array(x, dtype=np.float64, copy=True)
    out_y = np.array(y, dtype=np.float64, copy=True)
    mask = in_china(x, y)
    if mask.any():
        dlon, dlat = _shift(x[mask], y[mask])
        out_x[mask] = x[mask] + dlon
        out_y[mask] = y[mask] + dlat
    return out_x, out_y


def gcj02_to_wgs84_array(lons, lats) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised exact (iterative) GCJ-02 -> WGS-84. Returns new float64 arrays.

    Each point is iterated on its own (a point's result never depends on the other
    points of the batch) until the step is below 1e-12 degrees.
    """
    gx, gy = _as_float_arrays(lons, lats)
    out_x = np.array(gx, dtype=np.float64, copy=True)
    out_y = np.array(gy, dtype=np.float64, copy=True)
    active = np.flatnonzero(in_china(gx, gy).ravel())
    if active.size == 0:
        return out_x, out_y
    fx_out = out_x.reshape(-1)
    fy_out = out_y.reshape(-1)
    tx = gx.reshape(-1)[active]
    ty = gy.reshape(-1)[active]
    # Start from the one-step approximation: w0 = g - shift(g).
    dlon, dlat = _shift(tx, ty)
    wx = tx - dlon
    wy = ty - dlat
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = wgs84_to_gcj02_array(wx, wy)
        ex = fx - tx
        ey = fy - ty
        wx = wx - ex
        wy = wy - ey
        done = (np.abs(ex) < _INVERSE_TOL_DEG) & (np.abs(ey) < _INVERSE_TOL_DEG)
        if done.any():
            idx = active[done]
            fx_out[idx] = wx[done]
            fy_out[idx] = wy[done]
            keep = ~done
            active, tx, ty, wx, wy = active[keep], tx[keep], ty[keep], wx[keep], wy[keep]
            if active.size == 0:
                break
    if active.size:  # pragma: no cover - does not happen for real coordinates
        fx_out[active] = wx
        fy_out[active] = wy
    return out_x, out_y


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 (lon, lat) -> GCJ-02 (lon, lat). Unchanged outside China."""
    x, y = wgs84_to_gcj02_array(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))
    return float(x[0]), float(y[0])


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 (lon, lat) -> WGS-84 (lon, lat), exact to < 1e-9 deg. Unchanged outside China."""
    x, y = gcj02_to_wgs84_array(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64))
    return float(x[0]), float(y[0])


def _coords_fn(fn):
    def transform(coords: np.ndarray) -> np.ndarray:
        x, y = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return transform


def geometry_gcj02_to_wgs84(geom):
    """Transform a shapely geometry (or array of geometries) from GCJ-02 to WGS-84."""
    return shapely.transform(geom, _coords_fn(gcj02_to_wgs84_array))


def geometry_wgs84_to_gcj02(geom):
    """Transform a shapely geometry (or array of geometries) from WGS-84 to GCJ-02."""
    return shapely.transform(geom, _coords_fn(wgs84_to_gcj02_array))


def meters_per_degree(lat: float) -> tuple[float, float]:
    """Length in metres of one degree of longitude (mx) and latitude (my) at ``lat``.

    Uses the WGS-84 ellipsoid's radii of curvature (prime vertical for mx, meridian
    for my), good to far better than a metre per degree.
    """
    phi = math.radians(lat)
    s = math.sin(phi)
    w = math.sqrt(1.0 - _WGS84_E2 * s * s)
    n = _WGS84_A / w  # prime vertical radius
    m = _WGS84_A * (1.0 - _WGS84_E2) / (w * w * w)  # meridian radius
    mx = math.pi / 180.0 * n * math.cos(phi)
    my = math.pi / 180.0 * m
    return mx, my
