"""itmlogic (the pure-Python NTIA port, MIT) driven the way NTIA ``point_to_point`` is:
the oracle that geo_dx's compiled ITM is tested against."""

from __future__ import annotations

import cmath
import math

import numpy as np
from itmlogic.misc.qerfi import qerfi
from itmlogic.preparatory_subroutines.qlrpfl import qlrpfl
from itmlogic.statistics.avar import avar


def itmlogic_loss_db(
    elevation_m: np.ndarray,
    distance_m: float,
    *,
    frequency_mhz: float,
    tx_height_m: float,
    rx_height_m: float,
    ipol: int = 1,
    eps: float = 15.0,
    sgm: float = 0.005,
    klim: int = 5,
    ens0: float = 301.0,
    mdvar: int = 3,
    zsys: float = 0.0,
    reliability_pct: tuple[float, float, float] = (50.0, 50.0, 50.0),
) -> float:
    """Basic transmission loss (dB) over one profile, computed by itmlogic."""
    npts = len(elevation_m) - 1
    pfl = [npts, distance_m / npts, *map(float, elevation_m)]
    prop = {"eps": eps, "sgm": sgm, "ipol": ipol, "fmhz": frequency_mhz,
            "hg": [tx_height_m, rx_height_m], "klim": klim, "ens0": ens0, "lvar": 5,
            "gma": 157e-9, "pfl": pfl, "kwx": 0, "wn": frequency_mhz / 47.7,
            "klimx": 0, "mdvarx": mdvar}
    prop["ens"] = ens0 * math.exp(-zsys / 9460) if zsys != 0 else ens0
    prop["gme"] = prop["gma"] * (1 - 0.04665 * math.exp(prop["ens"] / 179.3))
    zq = complex(eps, 376.62 * sgm / prop["wn"])
    prop["zgnd"] = cmath.sqrt(zq - 1) / (zq if ipol else 1)
    prop = qlrpfl(prop)
    free_space = 8.685890 * math.log(2 * prop["wn"] * prop["dist"])
    zt, zl, zc = qerfi([r / 100 for r in reliability_pct])
    attenuation, _ = avar(zt, zl, zc, prop)
    return free_space + attenuation
