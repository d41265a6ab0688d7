"""ITM: the compiled port against NTIA's published QKPFL cases and against itmlogic."""

from __future__ import annotations

import numpy as np
import pytest

from geo_dx.errors import InputError
from geo_dx.signal.itm import CLIMATES, TerrainProfiles, free_space_loss_db, itm_loss_db
from tests.itm_oracle import itmlogic_loss_db

#: NTIA QKPFL test profile: Crystal Palace to Mursley, England, 156 intervals over 77.8 km.
CRYSTAL_PALACE_MURSLEY = np.array([
    96, 84, 65, 46, 46, 46, 61, 41, 33, 27, 23, 19, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
    15, 17, 19, 21, 23, 25, 27, 29, 35, 46, 41, 35, 30, 33, 35, 37, 40, 35, 30, 51, 62, 76, 46,
    46, 46, 46, 46, 46, 50, 56, 67, 106, 83, 95, 112, 137, 137, 76, 103, 122, 122, 83, 71, 61,
    64, 67, 71, 74, 77, 79, 86, 91, 83, 76, 68, 63, 76, 107, 107, 107, 119, 127, 133, 135, 137,
    142, 148, 152, 152, 107, 137, 104, 91, 99, 120, 152, 152, 137, 168, 168, 122, 137, 137,
    170, 183, 183, 187, 194, 201, 192, 152, 152, 166, 177, 198, 156, 127, 116, 107, 104, 101,
    98, 95, 103, 91, 97, 102, 107, 107, 107, 103, 98, 94, 91, 105, 122, 122, 122, 122, 122,
    137, 137, 137, 137, 137, 137, 137, 137, 140, 144, 147, 150, 152, 159,
], dtype=float)
#: Published quantiles (qkpflanx.txt): rows reliability 1/10/50/90/99 %,
#: columns confidence 50/90/10 %.
QKPFL_1 = [[128.6, 137.6, 119.6], [132.2, 140.8, 123.5], [135.8, 144.3, 127.2],
           [138.0, 146.5, 129.4], [139.7, 148.4, 131.0]]
QKPFL_2 = [[144.3, 154.1, 134.4], [150.9, 159.5, 142.3], [157.6, 165.7, 149.4],
           [161.6, 169.9, 153.3], [164.9, 173.6, 156.2]]


@pytest.mark.parametrize(("frequency", "heights", "table"), [
    (41.5, (143.9, 8.5), QKPFL_1),
    (573.3, (194.0, 9.1), QKPFL_2),
])
def test_ntia_published_qkpfl_cases(frequency, heights, table):
    profiles = TerrainProfiles.from_list([CRYSTAL_PALACE_MURSLEY], [77_800.0])
    for reliability, row in zip((1, 10, 50, 90, 99), table, strict=True):
        for confidence, published in zip((50, 90, 10), row, strict=True):
            loss, kwx = itm_loss_db(
                profiles, frequency_mhz=frequency, tx_height_m=heights[0],
                rx_height_m=heights[1], polarisation="horizontal", permittivity=15.0,
                conductivity_s_m=0.005, surface_refractivity_n=314.0,
                climate="continental_temperate", mode="mobile", point_to_point=True,
                time_pct=reliability, situation_pct=confidence, system_elevation_m=0.0,
            )
            # published to 0.1 dB
            assert loss[0] == pytest.approx(published, abs=0.06), (reliability, confidence)
            assert kwx[0] == 0


def _random_profiles(rng: np.random.Generator, n: int):
    """Rough random terrain, 0.3-40 km, 25-120 m steps, some with a ridge."""
    profiles, distances = [], []
    for _ in range(n):
        distance = rng.uniform(300, 40_000)
        count = max(int(np.ceil(distance / rng.uniform(25, 120))), 2)
        walk = np.cumsum(rng.normal(0, rng.uniform(0, 80), count + 1)) * 10 / np.sqrt(count)
        z = walk + rng.uniform(0, 1500)
        if rng.random() < 0.3:
            k = int(rng.integers(1, count))
            z[k : k + max(count // 20, 1)] += rng.uniform(0, 400)
        profiles.append(z)
        distances.append(distance)
    return profiles, np.array(distances)


def test_agrees_with_itmlogic_on_random_profiles():
    rng = np.random.default_rng(20251123)
    n = 2000
    elev, dist = _random_profiles(rng, n)
    freq = rng.uniform(700, 2700, n)
    h_tx = rng.uniform(10, 80, n)
    h_rx = rng.uniform(1, 10, n)
    zsys = rng.uniform(0, 1500, n)
    modes = {"broadcast": 3, "mobile": 2, "accidental": 1, "single": 0}
    settings = [(mode, p2p, climate, polarisation, reliability)
                for mode, p2p, reliability in [
                    ("broadcast", False, (50.0, 90.0, 90.0)), ("mobile", False, (90.0, 50.0, 10.0)),
                    ("accidental", True, (10.0, 50.0, 99.0)), ("single", False, (50.0, 50.0, 70.0))]
                for climate in CLIMATES for polarisation in ("horizontal", "vertical")]
    group = np.arange(n) % len(settings)
    worst = 0.0
    for g, (mode, p2p, climate, polarisation, reliability) in enumerate(settings):
        idx = np.flatnonzero(group == g)
        loss, _ = itm_loss_db(
            TerrainProfiles.from_list([elev[i] for i in idx], dist[idx]),
            frequency_mhz=freq[idx], tx_height_m=h_tx[idx], rx_height_m=h_rx[idx],
            polarisation=polarisation, surface_refractivity_n=320.0, climate=climate,
            mode=mode, point_to_point=p2p, time_pct=reliability[0],
            location_pct=reliability[1], situation_pct=reliability[2],
            system_elevation_m=zsys[idx], itmlogic_compatible=True,
        )
        for k, i in enumerate(idx):
            want = itmlogic_loss_db(
                elev[i], dist[i], frequency_mhz=freq[i], tx_height_m=h_tx[i],
                rx_height_m=h_rx[i], ipol=int(polarisation == "vertical"),
                klim=CLIMATES[climate], ens0=320.0, mdvar=modes[mode] + (10 if p2p else 0),
                zsys=zsys[i], reliability_pct=reliability,
            )
            worst = max(worst, abs(loss[k] - want))
    assert worst < 0.1


def test_batch_equals_one_by_one_and_computes_system_elevation():
    rng = np.random.default_rng(7)
    elev, dist = _random_profiles(rng, 40)
    batch, _ = itm_loss_db(TerrainProfiles.from_list(elev, dist), frequency_mhz=1800.0,
                           tx_height_m=30.0, rx_height_m=1.5, itmlogic_compatible=True)
    for i in range(40):
        # NTIA point_to_point: system elevation = mean of the middle ~80 % of the profile
        npts = len(elev[i]) - 1
        ja = int(3.0 + 0.1 * npts)
        jb = npts - ja + 6
        zsys = float(np.mean(elev[i][ja - 3 : jb - 2]))
        want = itmlogic_loss_db(elev[i], dist[i], frequency_mhz=1800.0, tx_height_m=30.0,
                                rx_height_m=1.5, zsys=zsys)
        assert batch[i] == pytest.approx(want, abs=0.01)


def test_ntia_and_itmlogic_variants_agree_when_the_quirks_do_not_apply():
    # the quirk reads the second-to-last point: equal last two points make it moot
    rng = np.random.default_rng(3)
    elev, dist = _random_profiles(rng, 200)
    for z in elev:
        z[-2] = z[-1]
    profiles = TerrainProfiles.from_list(elev, dist)
    ntia, _ = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5)
    compat, _ = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5,
                            itmlogic_compatible=True)
    np.testing.assert_allclose(ntia, compat, atol=1e-9)


def test_ntia_variant_uses_the_receiver_ground_on_line_of_sight_paths():
    # a 10 km line-of-sight path on flat ground, the receiver on a 20 m mound: NTIA takes
    # the last point (mound top) for the receiver's effective height, itmlogic the one before
    z = np.zeros(201)
    z[-1] = 20.0
    profiles = TerrainProfiles.from_list([z], [10_000.0])
    ntia, _ = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5)
    compat, _ = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5,
                            itmlogic_compatible=True)
    # a receiver 21.5 m up sees the mast: NTIA is close to free space, itmlogic is not
    assert ntia[0] == pytest.approx(float(free_space_loss_db(10_000.0, 1800.0)), abs=0.5)
    assert ntia[0] < compat[0] - 5.0


def test_loss_increases_with_distance_on_flat_ground():
    distances = np.arange(1_000.0, 40_001.0, 500.0)
    profiles = TerrainProfiles.from_list([np.zeros(int(d // 50) + 1) for d in distances],
                                         distances)
    for freq in (900.0, 1800.0, 2100.0):
        loss, _ = itm_loss_db(profiles, frequency_mhz=freq, tx_height_m=30.0, rx_height_m=1.5,
                              time_pct=50, location_pct=90, situation_pct=90)
        assert np.all(np.diff(loss) > 0)
        # never below free space at these heights and distances, and not absurdly above
        assert np.all(loss >= free_space_loss_db(distances, freq) - 1e-9)


def test_loss_jumps_behind_a_ridge():
    x = np.linspace(0.0, 10_000.0, 201)
    flat = np.full_like(x, 200.0)
    ridge = flat + 300.0 * np.exp(-(((x - 5_000.0) / 300.0) ** 2))
    loss, _ = itm_loss_db(TerrainProfiles.from_list([flat, ridge], [10_000.0, 10_000.0]),
                          frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5)
    assert loss[1] > loss[0] + 20.0


def test_higher_situation_reliability_means_more_loss():
    rng = np.random.default_rng(11)
    elev, dist = _random_profiles(rng, 50)
    profiles = TerrainProfiles.from_list(elev, dist)
    previous = None
    for pct in (10, 50, 90, 99):
        loss, _ = itm_loss_db(profiles, frequency_mhz=1800.0, tx_height_m=30.0,
                              rx_height_m=1.5, situation_pct=pct)
        if previous is not None:
            assert np.all(loss > previous)
        previous = loss


def test_free_space_formula():
    # 20 log10(4 pi d f / c) with c = 299.8 m/us (ITM's 47.7 = c / (2 pi) in MHz m)
    want = 20 * np.log10(4 * np.pi * 5_000.0 * 1800e6 / 299_792_458.0)
    assert float(free_space_loss_db(5_000.0, 1800.0)) == pytest.approx(want, abs=0.01)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"climate": "tropical"}, "climate was 'tropical'; allowed: equatorial"),
    ({"mode": "p2p"}, "mode was 'p2p'"),
    ({"polarisation": "circular"}, "polarisation was 'circular'"),
    ({"time_pct": 100.0}, r"time_pct was 100.0; give a percentage in \(0, 100\)"),
    ({"frequency_mhz": [1800.0, 900.0]}, "frequency_mhz has 2 values for 1 profiles"),
])
def test_bad_options_are_named(kwargs, match):
    profiles = TerrainProfiles.from_list([np.zeros(11)], [5_000.0])
    options = {"frequency_mhz": 1800.0, "tx_height_m": 30.0, "rx_height_m": 1.5, **kwargs}
    with pytest.raises(InputError, match=match):
        itm_loss_db(profiles, **options)


def test_bad_profiles_are_refused():
    with pytest.raises(InputError, match="NaN"):
        itm_loss_db(TerrainProfiles.from_list([np.array([0.0, np.nan, 0.0])], [1000.0]),
                    frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5)
    with pytest.raises(InputError, match="at least two"):
        itm_loss_db(TerrainProfiles.from_list([np.array([0.0])], [1000.0]),
                    frequency_mhz=1800.0, tx_height_m=30.0, rx_height_m=1.5)
