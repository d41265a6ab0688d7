"""Compiled kernel of the Longley-Rice ITM 1.2.2, point-to-point mode (private).

A line-by-line port of the NTIA/ITS reference algorithm as implemented in ``itmlogic``
(Oughton et al., MIT licence), itself a port of Hufford's Fortran, to scalar numba code:
one call computes one profile, and :func:`itm_many` runs profiles in parallel.
Variable names follow the reference (``pfl``, ``he``, ``dl``, ``the``, ``aref``...), so the
two can be read side by side. Profiles use the reference layout: ``pfl[0]`` the number
of intervals ``np``, ``pfl[1]`` the interval in metres, ``pfl[2:np + 3]`` the elevations.

``quirks`` reproduces two places where itmlogic differs from the NTIA C++ code, so
that itmlogic can serve as a test oracle: (1) on line-of-sight profiles itmlogic takes
the receiver's effective height from the second-to-last profile point, (2) in the
degenerate branch of ``zlsq1`` it widens the fit window with the wrong sign. With
``quirks`` false the kernel follows NTIA.

Import through :mod:`geo_dx.signal.itm`, which raises a readable error when numba is missing.
"""

from __future__ import annotations

import cmath
import math

import numpy as np
from numba import njit, prange

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

# Climate tables of avar (index climate - 1).
_BV1 = np.array([-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15])
_BV2 = np.array([12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9])
_XV1 = np.array([144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3])
_XV2 = np.array([190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3])
_XV3 = np.array([133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3])
_BSM1 = np.array([2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51])
_BSM2 = np.array([159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8])
_XSM1 = np.array([762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3])
_XSM2 = np.array([123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3])
_XSM3 = np.array([94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3])
_BSP1 = np.array([2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43])
_BSP2 = np.array([102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19])
_XSP1 = np.array([636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3])
_XSP2 = np.array([134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3])
_XSP3 = np.array([95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3])
_BSD1 = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])
_BZD1 = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
_BFM1 = np.array([1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0])
_BFM2 = np.array([0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0])
_BFM3 = np.array([0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0])
_BFP1 = np.array([1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0])
_BFP2 = np.array([0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0])
_BFP3 = np.array([0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0])
_H0A = np.array([25.0, 80.0, 177.0, 395.0, 705.0])
_H0B = np.array([24.0, 45.0, 68.0, 80.0, 105.0])
_THIRD = 1.0 / 3.0
#: 20 / ln(10): nepers of field amplitude to decibels.
DB = 8.685890


@njit(**_JIT)
def qerfi(q: float) -> float:
    """Standard normal deviate exceeded with probability ``q`` (Hastings, error < 4.5e-4)."""
    x = 0.5 - q
    t = max(0.5 - abs(x), 0.000001)
    t = math.sqrt(-2.0 * math.log(t))
    v = t - ((0.010328 * t + 0.802853) * t + 2.515516698) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    return -v if x < 0 else v


@njit(**_JIT)
def _zlsq1(z, x1, x2, quirks):
    xn = z[0]
    xa = float(int(max(x1 / z[1], 0.0)))
    xb = xn - int(max(xn - x2 / z[1], 0.0))
    if xb <= xa:
        xa = max(xa - 1.0, 0.0)
        if quirks:
            xb = xn - max(xn - xb + 1.0, 0.0)
        else:
            xb = xn - max(xn - xb - 1.0, 0.0)
    ja = int(xa)
    jb = int(xb)
    n = jb - ja
    xa = xb - xa
    x = -0.5 * xa
    xb = xb + x
    a = 0.5 * (z[ja + 2] + z[jb + 2])
    b = 0.5 * (z[ja + 2] - z[jb + 2]) * x
    for _ in range(2, n + 1):
        ja += 1
        x += 1.0
        a += z[ja + 2]
        b += z[ja + 2] * x
    a = a / xa if xa != 0 else 0.0
    b = b * 12.0 / ((xa * xa + 2.0) * xa)
    return a - b * xb, a + b * (xn - xb)


@njit(**_JIT)
def _hzns(pfl, dist, hg0, hg1, gme):
    np_ = int(pfl[0])
    xi = pfl[1]
    za = pfl[2] + hg0
    zb = pfl[np_ + 2] + hg1
    qc = 0.5 * gme
    q = qc * dist
    the1 = (zb - za) / dist
    the0 = the1 - q
    the1 = -the1 - q
    dl0 = dist
    dl1 = dist
    if np_ >= 2:
        sa = 0.0
        sb = dist
        wq = True
        for i in range(2, np_ + 1):
            sa += xi
            sb -= xi
            q = pfl[i + 1] - (qc * sa + the0) * sa - za
            if q > 0:
                the0 += q / sa
                dl0 = sa
                wq = False
            if not wq:
                q = pfl[i + 1] - (qc * sb + the1) * sb - zb
                if q > 0:
                    the1 += q / sb
                    dl1 = sb
    return the0, the1, dl0, dl1


@njit(**_JIT)
def _dlthx(pfl, x1, x2, quirks):
    np_ = int(pfl[0])
    xa = x1 / pfl[1]
    xb = x2 / pfl[1]
    if xb - xa < 2:
        return 0.0
    ka = int(0.1 * (xb - xa + 8))
    ka = min(max(4, ka), 25)
    n = 10 * ka - 5
    kb = n - ka + 1
    sn = n - 1
    s = np.empty(n + 2)
    s[0] = sn
    s[1] = 1.0
    xb = (xb - xa) / sn
    k = int(xa + 1)
    xa = xa - k
    last = len(pfl) - 1
    for j in range(n):
        while xa > 0 and k < np_:
            xa -= 1.0
            k += 1
        if k + 2 <= last:
            s[j + 2] = pfl[k + 2] + (pfl[k + 2] - pfl[k + 1]) * xa
        else:
            s[j + 2] = pfl[last] + (pfl[last] - pfl[last - 1]) * xa
        xa += xb
    xa, xb = _zlsq1(s, 0.0, float(sn), quirks)
    xb = (xb - xa) / sn
    for j in range(n):
        s[j + 2] -= xa
        xa += xb
    ordered = np.sort(s[2:])[::-1]
    dh = ordered[ka - 1] - ordered[kb - 1]
    return dh / (1 - 0.8 * math.exp(-(x2 - x1) / 50e3))


@njit(**_JIT)
def _aknfe(v2):
    if v2 < 5.76:
        if v2 <= 0:
            v2 = 0.00001
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 4.343 * math.log(v2)


@njit(**_JIT)
def _fht(x, pk):
    if x < 200:
        w = -math.log(pk)
        if pk < 1e-5 or x * w**3 > 5495:
            out = -117.0
            if x > 1:
                out = 17.372 * math.log(x) + out
        else:
            out = 2.5e-5 * x**2 / pk - 8.686 * w - 15
        return out
    out = 0.05751 * x - 4.343 * math.log(x)
    if x < 2000:
        w = 0.0134 * x * math.exp(-0.005 * x)
        out = (1 - w) * out + w * (17.372 * math.log(x) - 117)
    return out


@njit(**_JIT)
def _adiff(d, st):
    """Diffraction attenuation at ``d`` (st: tha, gme, dla, dl0, dl1, wn, qk, xht, aht,
    wd1, xd1, dh, afo)."""
    tha, gme, dla, dl0, dl1, wn, qk, xht, aht, wd1, xd1, dh, afo = st
    th = tha + d * gme
    ds = d - dla
    q = 0.0795775 * wn * ds * th**2
    a1 = _aknfe(q * dl0 / (ds + dl0)) + _aknfe(q * dl1 / (ds + dl1))
    a = ds / th
    wa = (a * wn) ** _THIRD
    pk = qk / wa
    q = (1.607 - pk) * 151.0 * wa * th + xht
    ar = 0.05751 * q - 4.343 * math.log(q) - aht
    q = (wd1 + xd1 / d) * min((1 - 0.8 * math.exp(-d / 50e3)) * dh * wn, 6283.2)
    wd = 25.1 / (25.1 + math.sqrt(q))
    return ar * wd + (1 - wd) * a1 + afo


@njit(**_JIT)
def _alos(d, dh, he0, he1, wn, zgnd, emd, aed, wis):
    q = (1 - 0.8 * math.exp(-d / 50e3)) * dh
    s = 0.78 * q * math.exp(-((q / 16) ** 0.25))
    q = he0 + he1
    sps = q / math.sqrt(d**2 + q**2)
    r = (sps - zgnd) / (sps + zgnd) * math.exp(-min(10.0, wn * s * sps))
    q = abs(r) ** 2
    if q < 0.25 or q < sps:
        r = r * math.sqrt(sps / q)
    out = emd * d + aed
    q = wn * he0 * he1 * 2 / d
    if q > 1.57:
        q = 3.14 - 2.4649 / q
    return (-4.343 * math.log(abs(complex(math.cos(q), -math.sin(q)) + r) ** 2) - out) * wis + out


@njit(**_JIT)
def _h0f(r, et):
    it = int(math.floor(et))
    if it <= 0:
        it = 1
        q = 0.0
    elif it >= 5:
        it = 5
        q = 0.0
    else:
        q = et - it
    x = (1 / r) ** 2
    out = 4.343 * math.log((_H0A[it - 1] * x + _H0B[it - 1]) * x + 1)
    if q != 0:
        out = (1 - q) * out + q * 4.343 * math.log((_H0A[it] * x + _H0B[it]) * x + 1)
    return out


@njit(**_JIT)
def _ahd(td):
    if td <= 10e3:
        return 133.4 + 0.332e-3 * td - 4.343 * math.log(td)
    if td <= 70e3:
        return 104.6 + 0.212e-3 * td - 1.086 * math.log(td)
    return 71.8 + 0.157e-3 * td + 2.171 * math.log(td)


@njit(**_JIT)
def _ascat(d, h0s, ascat1, the0, the1, he0, he1, gme, wn, ad, rr, etq, tha, ens):
    """Troposcatter attenuation; returns (ascat1, h0s) as itmlogic updates them."""
    if h0s > 15:
        h0 = h0s
    else:
        th = the0 + the1 + d * gme
        r2 = 2 * wn * th
        r1 = r2 * he0
        r2 = r2 * he1
        if r1 < 0.2 and r2 < 0.2:
            ascat1 = 1001.0
        ss = (d - ad) / (d + ad)
        q = rr / ss
        ss = max(0.1, ss)
        q = min(max(0.1, q), 10.0)
        z0 = (d - ad) * (d + ad) * th * 0.25 / d
        et = (etq * math.exp(-(min(1.7, z0 / 8.0e3) ** 6)) + 1) * z0 / 1.7556e3
        ett = max(et, 1.0)
        h0 = (_h0f(r1, ett) + _h0f(r2, ett)) * 0.5
        h0 = h0 + min(h0, (1.38 - math.log(ett)) * math.log(ss) * math.log(q) * 0.49)
        h0 = max(h0, 0.0)
        if et < 1:
            h0 = et * h0 + (1 - et) * 4.343 * math.log(
                ((1 + 1.4142 / r1) * (1 + 1.4142 / r2)) ** 2 * (r1 + r2) / (r1 + r2 + 2.8284)
            )
        if h0 > 15 and h0s >= 0:
            h0 = h0s
        if ascat1 != 1001.0:
            h0s = h0
    th = tha + d * gme
    ascat1 = (
        _ahd(th * d)
        + 4.343 * math.log(47.7 * wn * th**4)
        - 0.1 * (ens - 301) * math.exp(-th * d / 40e3)
        + h0
    )
    return ascat1, h0s


@njit(**_JIT)
def _curv(c1, c2, x1, x2, x3, de):
    return (c1 + c2 / (1 + ((de - x2) / x3) ** 2)) * ((de / x1) ** 2) / (1 + ((de / x1) ** 2))


@njit(**_JIT)
def _avar(zzt, zzl, zzc, klim, mdvar, dist, he0, he1, wn, dh, aref):
    """Quantile of attenuation (dB) for the standard normal deviates of time, location
    and situation; returns (avar, kwx)."""
    kwx = 0
    if klim <= 0 or klim > 7:
        klim = 5
        kwx = 2
    k = klim - 1
    kdv = mdvar
    ws = kdv >= 20
    if ws:
        kdv -= 20
    wl = kdv >= 10
    if wl:
        kdv -= 10
    if kdv < 0 or kdv > 3:
        kdv = 0
        kwx = max(kwx, 2)
    q = math.log(0.133 * wn)
    gm = _BFM1[k] + _BFM2[k] / ((_BFM3[k] * q) ** 2 + 1)
    gp = _BFP1[k] + _BFP2[k] / ((_BFP3[k] * q) ** 2 + 1)
    dexa = math.sqrt(18e6 * he0) + math.sqrt(18e6 * he1) + (575.7e12 / wn) ** _THIRD
    if dist < dexa:
        de = 130e3 * dist / dexa
    else:
        de = 130e3 + dist - dexa
    vmd = _curv(_BV1[k], _BV2[k], _XV1[k], _XV2[k], _XV3[k], de)
    sgtm = _curv(_BSM1[k], _BSM2[k], _XSM1[k], _XSM2[k], _XSM3[k], de) * gm
    sgtp = _curv(_BSP1[k], _BSP2[k], _XSP1[k], _XSP2[k], _XSP3[k], de) * gp
    sgtd = sgtp * _BSD1[k]
    zd = _BZD1[k]
    tgtd = (sgtp - sgtd) * zd
    if wl:
        sgl = 0.0
    else:
        q = (1 - 0.8 * math.exp(-dist / 50e3)) * dh * wn
        sgl = 10 * q / (q + 13)
    vs0 = 0.0 if ws else (5 + 3 * math.exp(-de / 100e3)) ** 2
    zt = zzt
    zl = zzl
    zc = zzc
    if kdv == 0:
        zt = zc
        zl = zc
    elif kdv == 1:
        zl = zc
    elif kdv == 2:
        zl = zt
    if abs(zt) > 3.10 or abs(zl) > 3.10 or abs(zc) > 3.10:
        kwx = max(kwx, 1)
    if zt < 0:
        sgt = sgtm
    elif zt <= zd:
        sgt = sgtp
    else:
        sgt = sgtd + tgtd / zt
    vs = vs0 + (sgt * zt) ** 2 / (7.8 + zc**2) + (sgl * zl) ** 2 / (24.0 + zc**2)
    if kdv == 0:
        yr = 0.0
        sgc = math.sqrt(sgt**2 + sgl**2 + vs)
    elif kdv == 1:
        yr = sgt * zt
        sgc = math.sqrt(sgl**2 + vs)
    elif kdv == 2:
        yr = math.sqrt(sgt**2 + sgl**2) * zt
        sgc = math.sqrt(vs)
    else:
        yr = sgt * zt + sgl * zl
        sgc = math.sqrt(vs)
    out = aref - vmd - yr - sgc * zc
    if out < 0:
        out = out * (29 - out) / (29 - 10 * out)
    return out, kwx


@njit(**_JIT)
def itm_p2p(elev, xi, hg0, hg1, fmhz, en0, zsys, eps, sgm, ipol, klim, mdvar, zt, zl, zc,
            quirks):
    """
    Basic transmission loss (dB) over one profile, and ITM's warning flag ``kwx``.

    ``elev``: the np + 1 elevations (m) from transmitter to receiver, ``xi`` metres apart;
    ``zsys``: system elevation (m) that scales the surface refractivity ``en0``.
    """
    np_ = len(elev) - 1
    pfl = np.empty(np_ + 3)
    pfl[0] = np_
    pfl[1] = xi
    pfl[2:] = elev
    kwx = 0
    # qlrps
    wn = fmhz / 47.7
    ens = en0
    if zsys != 0:
        ens = ens * math.exp(-zsys / 9460)
    gme = 157e-9 * (1 - 0.04665 * math.exp(ens / 179.3))
    zq = complex(eps, 376.62 * sgm / wn)
    zgnd = cmath.sqrt(zq - 1)
    if ipol != 0:
        zgnd = zgnd / zq
    # qlrpfl
    dist = np_ * xi
    the0, the1, dl0, dl1 = _hzns(pfl, dist, hg0, hg1, gme)
    xl0 = min(15 * hg0, 0.1 * dl0)
    xl1 = dist - min(15 * hg1, 0.1 * dl1)
    dh = _dlthx(pfl, xl0, xl1, quirks)
    if dl0 + dl1 >= 1.5 * dist:
        za, zb = _zlsq1(pfl, xl0, xl1, quirks)
        he0 = hg0 + max(pfl[2] - za, 0.0)
        he1 = hg1 + max(pfl[np_ + 1 if quirks else np_ + 2] - zb, 0.0)
        dl0 = math.sqrt(2 * he0 / gme) * math.exp(-0.07 * math.sqrt(dh / max(he0, 5.0)))
        dl1 = math.sqrt(2 * he1 / gme) * math.exp(-0.07 * math.sqrt(dh / max(he1, 5.0)))
        q = dl0 + dl1
        if q <= dist:
            q = (dist / q) ** 2
            he0 *= q
            he1 *= q
            dl0 = math.sqrt(2 * he0 / gme) * math.exp(-0.07 * math.sqrt(dh / max(he0, 5.0)))
            dl1 = math.sqrt(2 * he1 / gme) * math.exp(-0.07 * math.sqrt(dh / max(he1, 5.0)))
        q = math.sqrt(2 * he0 / gme)
        the0 = (0.65 * dh * (q / dl0 - 1) - 2 * he0) / q
        q = math.sqrt(2 * he1 / gme)
        the1 = (0.65 * dh * (q / dl1 - 1) - 2 * he1) / q
    else:
        za, _unused = _zlsq1(pfl, xl0, 0.9 * dl0, quirks)
        _unused, zb = _zlsq1(pfl, dist - 0.9 * dl1, xl1, quirks)
        he0 = hg0 + max(pfl[2] - za, 0.0)
        he1 = hg1 + max(pfl[np_ + 2] - zb, 0.0)
    # lrprop (mdp = -1: point-to-point)
    dls0 = math.sqrt(2 * he0 / gme)
    dls1 = math.sqrt(2 * he1 / gme)
    dlsa = dls0 + dls1
    dla = dl0 + dl1
    tha = max(the0 + the1, -dla * gme)
    if wn < 0.838 or wn > 210 or hg0 < 1 or hg0 > 1000 or hg1 < 1 or hg1 > 1000:
        kwx = max(kwx, 1)
    if abs(the0) > 0.2 or dl0 < 0.1 * dls0 or dl0 > 3 * dls0:
        kwx = max(kwx, 3)
    if abs(the1) > 0.2 or dl1 < 0.1 * dls1 or dl1 > 3 * dls1:
        kwx = max(kwx, 3)
    if (ens < 250 or ens > 400 or gme < 75e-9 or gme > 250e-9 or zgnd.real < abs(zgnd.imag)
            or wn < 0.419 or wn > 420):
        kwx = 4
    if hg0 < 0.5 or hg0 > 3000 or hg1 < 0.5 or hg1 > 3000:
        kwx = 4
    dmin = abs(he0 - he1) / 0.2
    # adiff(0): set-up
    q = hg0 * hg1
    qk = he0 * he1 - q
    q = q + 10  # point-to-point
    wd1 = math.sqrt(1 + qk / q)
    xd1 = dla + tha / gme
    q = (1 - 0.8 * math.exp(-dlsa / 50e3)) * dh
    q = 0.78 * q * math.exp(-((q / 16) ** 0.25))
    afo = min(15.0, 2.171 * math.log(1 + 4.77e-4 * hg0 * hg1 * wn * q))
    qk = 1 / abs(zgnd)
    aht = 20.0
    xht = 0.0
    for dl_j, he_j in ((dl0, he0), (dl1, he1)):
        a = 0.5 * dl_j**2 / he_j
        wa = (a * wn) ** _THIRD
        pk = qk / wa
        q = (1.607 - pk) * 151.0 * wa * dl_j / a
        xht += q
        aht += _fht(q, pk)
    st = (tha, gme, dla, dl0, dl1, wn, qk, xht, aht, wd1, xd1, dh, afo)
    xae = (wn * gme**2) ** (-_THIRD)
    d3 = max(dlsa, 1.3787 * xae + dla)
    d4 = d3 + 2.7574 * xae
    a3 = _adiff(d3, st)
    a4 = _adiff(d4, st)
    emd = (a4 - a3) / (d4 - d3)
    aed = a3 - emd * d3
    wis = 0.021 / (0.021 + wn * dh / max(10e3, dlsa))
    if dist > 0:
        if dist > 1000e3:
            kwx = max(kwx, 1)
        if dist < dmin:
            kwx = max(kwx, 3)
        if dist < 1e3 or dist > 2000e3:
            kwx = 4
    aref = 0.0
    if dist < dlsa:
        d2 = dlsa
        a2 = aed + d2 * emd
        d0 = 1.908 * wn * he0 * he1
        if aed >= 0:
            d0 = min(d0, 0.5 * dla)
            d1 = d0 + 0.25 * (dla - d0)
        else:
            d1 = max(-aed / emd, 0.25 * dla)
        a1 = _alos(d1, dh, he0, he1, wn, zgnd, emd, aed, wis)
        wq = False
        ak1 = 0.0
        ak2 = 0.0
        if d0 < d1:
            a0 = _alos(d0, dh, he0, he1, wn, zgnd, emd, aed, wis)
            q = math.log(d2 / d0)
            ak2 = max(0.0, ((d2 - d0) * (a1 - a0) - (d1 - d0) * (a2 - a0))
                      / ((d2 - d0) * math.log(d1 / d0) - (d1 - d0) * q))
            wq = aed >= 0 or ak2 > 0
            if wq:
                ak1 = (a2 - a0 - ak2 * q) / (d2 - d0)
                if ak1 < 0:
                    ak1 = 0.0
                    ak2 = max(a2 - a0, 0.0) / q
                    if ak2 == 0:
                        ak1 = emd
        if not wq:
            ak1 = max(a2 - a1, 0.0) / (d2 - d1)
            ak2 = 0.0
            if ak1 == 0:
                ak1 = emd
        ael = a2 - ak1 * d2 - ak2 * math.log(d2)
        if dist > 0:
            aref = ael + ak1 * dist + ak2 * math.log(dist)
    if dist <= 0 or dist >= dlsa:
        ad = dl0 - dl1
        rr = he1 / he0
        if ad < 0:
            ad = -ad
            rr = 1 / rr
        etq = (5.67e-6 * ens - 2.32e-3) * ens + 0.031
        h0s = -15.0
        d5 = dla + 200e3
        d6 = d5 + 200e3
        a6, h0s = _ascat(d6, h0s, 0.0, the0, the1, he0, he1, gme, wn, ad, rr, etq, tha, ens)
        a5, h0s = _ascat(d5, h0s, a6, the0, the1, he0, he1, gme, wn, ad, rr, etq, tha, ens)
        if a5 < 1000:
            ems = (a6 - a5) / 200e3
            dx = max(dlsa, dla + 0.3 * xae * math.log(47.7 * wn),
                     (a5 - aed - ems * d5) / (emd - ems))
            aes = (emd - ems) * dx + aed
        else:
            ems = emd
            aes = aed
            dx = 10e6
        if dist > dx:
            aref = aes + ems * dist
        else:
            aref = aed + emd * dist
    aref = max(aref, 0.0)
    var, kwx_var = _avar(zt, zl, zc, klim, mdvar, dist, he0, he1, wn, dh, aref)
    fs = DB * math.log(2 * wn * dist)
    return fs + var, max(kwx, kwx_var)


@njit(**_JIT)
def system_elevation(elev):
    """NTIA ``point_to_point``'s system elevation: mean of the middle ~80 % of the profile."""
    np_ = len(elev) - 1
    ja = int(3.0 + 0.1 * np_)
    jb = np_ - ja + 6
    total = 0.0
    for i in range(ja - 1, jb):
        total += elev[i - 2]
    return total / (jb - ja + 1)


@njit(parallel=True, **_JIT)
def itm_many(elev, offsets, xi, hg0, hg1, fmhz, zsys, en0, eps, sgm, ipol, klim, mdvar,
             zt, zl, zc, quirks, loss, kwx):
    """Run :func:`itm_p2p` on every profile ``elev[offsets[i]:offsets[i + 1]]`` in parallel.

    ``zsys`` NaN: computed from the profile as NTIA ``point_to_point`` does.
    """
    for i in prange(len(xi)):
        e = elev[offsets[i]:offsets[i + 1]]
        z = zsys[i]
        if np.isnan(z):
            z = system_elevation(e)
        loss[i], kwx[i] = itm_p2p(e, xi[i], hg0[i], hg1[i], fmhz[i], en0, z, eps, sgm, ipol,
                                  klim, mdvar, zt, zl, zc, quirks)
