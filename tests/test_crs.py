"""geo.crs: GCJ-02/BD-09 shifts and their exact inverses, EPSG conversions, names."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import crs

# Mainland China, where the round trips must hold to a centimetre.
LNG = st.floats(73.6, 134.8)
LAT = st.floats(18.2, 53.5)
CM = 0.01
TOKYO, PARIS, NULL_ISLAND = (139.6917, 35.6895), (2.3522, 48.8566), (0.0, 0.0)
ROUND_TRIPS = settings(max_examples=300, deadline=None)


def metres(lng1, lat1, lng2, lat2):
    """Planar distance in metres between two (lng, lat) points in degrees."""
    dx = (np.asarray(lng1) - lng2) * 111_320.0 * np.cos(np.radians(lat2))
    dy = (np.asarray(lat1) - lat2) * 111_320.0
    return np.hypot(dx, dy)


def china_sample(n: int = 200_000, seed: int = 7):
    rng = np.random.default_rng(seed)
    return rng.uniform(73.6, 134.8, n), rng.uniform(18.2, 53.5, n)


# --- round trips ------------------------------------------------------------------------


@ROUND_TRIPS
@given(lng=LNG, lat=LAT)
def test_wgs84_to_gcj02_and_back_is_within_1cm(lng, lat):
    assert metres(*crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lng, lat)), lng, lat) < CM
    assert metres(*crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lng, lat)), lng, lat) < CM


@ROUND_TRIPS
@given(lng=LNG, lat=LAT)
def test_wgs84_to_bd09_and_back_is_within_1cm(lng, lat):
    assert metres(*crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lng, lat)), lng, lat) < CM
    assert metres(*crs.wgs84_to_bd09(*crs.bd09_to_wgs84(lng, lat)), lng, lat) < CM


@ROUND_TRIPS
@given(lng=LNG, lat=LAT)
def test_gcj02_to_bd09_and_back_is_within_1cm(lng, lat):
    assert metres(*crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lng, lat)), lng, lat) < CM
    assert metres(*crs.gcj02_to_bd09(*crs.bd09_to_gcj02(lng, lat)), lng, lat) < CM


@ROUND_TRIPS
@given(lng=LNG, lat=LAT)
def test_cgcs2000_epsg_4490_round_trip_is_within_1cm(lng, lat):
    assert metres(*crs.to_wgs84(*crs.from_wgs84(lng, lat, "cgcs2000"), "EPSG:4490"), lng, lat) < CM


@ROUND_TRIPS
@given(lng=st.floats(117.0 - 1.5, 117.0 + 1.5), lat=LAT)
def test_gauss_kruger_epsg_4548_round_trip_is_within_1cm(lng, lat):
    x, y = crs.from_wgs84(lng, lat, "EPSG:4548")
    assert 300_000 < x < 700_000  # metres around the 500 km false easting, not degrees
    assert metres(*crs.to_wgs84(x, y, 4548), lng, lat) < CM


@ROUND_TRIPS
@given(lng=st.floats(114.0, 120.0), lat=LAT)
def test_utm_50n_epsg_32650_round_trip_is_within_1cm(lng, lat):
    x, y = crs.from_wgs84(lng, lat, "EPSG:32650")
    assert metres(*crs.to_wgs84(x, y, "epsg:32650"), lng, lat) < CM


def test_round_trips_hold_to_1cm_on_a_dense_mainland_sample():
    lng, lat = china_sample()
    assert metres(*crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lng, lat)), lng, lat).max() < CM
    assert metres(*crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lng, lat)), lng, lat).max() < CM
    assert metres(*crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lng, lat)), lng, lat).max() < CM


def test_one_step_gcj02_inverse_is_off_by_metres_where_the_iterative_one_is_not():
    lng, lat = china_sample()
    gcj_lng, gcj_lat = crs.wgs84_to_gcj02(lng, lat)
    # The usual inverse: subtract the offset measured at the GCJ-02 point itself.
    fwd_lng, fwd_lat = crs.wgs84_to_gcj02(gcj_lng, gcj_lat)
    one_step = metres(2 * gcj_lng - fwd_lng, 2 * gcj_lat - fwd_lat, lng, lat)
    iterative = metres(*crs.gcj02_to_wgs84(gcj_lng, gcj_lat), lng, lat)
    assert one_step.max() > 1.0
    assert np.median(one_step) > CM
    assert iterative.max() < one_step.max() / 1000


def test_one_step_bd09_inverse_is_off_by_metres_where_the_iterative_one_is_not():
    lng, lat = china_sample()
    bd_lng, bd_lat = crs.gcj02_to_bd09(lng, lat)
    fwd_lng, fwd_lat = crs.gcj02_to_bd09(bd_lng, bd_lat)
    one_step = metres(2 * bd_lng - fwd_lng, 2 * bd_lat - fwd_lat, lng, lat)
    iterative = metres(*crs.bd09_to_gcj02(bd_lng, bd_lat), lng, lat)
    assert one_step.max() > 1.0
    assert iterative.max() < one_step.max() / 1000


def test_metric_crs_is_gauss_kruger_with_central_meridian_117e():
    x, _ = crs.from_wgs84(117.0, 39.9, crs.METRIC_CRS)
    assert x == pytest.approx(500_000.0, abs=1e-6)


def test_to_metric_and_from_metric_round_trip_geometries():
    square = shapely.box(116.30, 39.78, 116.31, 39.79)
    metric = crs.to_metric(square)
    assert 900_000 < metric.area < 1_000_000  # 0.01° x 0.01° at 40°N is about 0.95 km²
    back = crs.from_metric(metric)
    assert shapely.equals_exact(back, square, tolerance=1e-9)
    assert crs.to_metric(np.array([square, square])).shape == (2,)


# --- published vectors ------------------------------------------------------------------

# The README of wandergis/coordtransform (npm "coordtransform"), inputs (116.404, 39.915);
# wgs84_to_bd09 from the tests of wyxloading/coordtransform-rs (tests/tests.rs), a port
# that asserts the same README values exactly.
PUBLISHED_FORWARD = [
    (crs.wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    (crs.gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    (crs.wgs84_to_bd09, (116.404, 39.915), (116.41662724378733, 39.922699552216216)),
    # googollee/eviltransform python/test.py (given there as lat, lng): Shanghai,
    # Shenzhen, Beijing.
    (crs.wgs84_to_gcj02, (121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    (crs.wgs84_to_gcj02, (113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    (crs.wgs84_to_gcj02, (116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]


@pytest.mark.parametrize(("convert", "given", "expected"), PUBLISHED_FORWARD)
def test_forward_shifts_match_published_vectors_to_1e_9_degrees(convert, given, expected):
    lng, lat = convert(*given)
    assert float(lng) == pytest.approx(expected[0], abs=1e-9)
    assert float(lat) == pytest.approx(expected[1], abs=1e-9)


# Same sources. The published inverses are the approximate one-step ones, so ours,
# being exact, differs from them by centimetres; what must hold is that ours maps back
# onto the input and the published answers do not.
PUBLISHED_INVERSE = [
    (crs.gcj02_to_wgs84, crs.wgs84_to_gcj02, (116.39775550083061, 39.91359571849836)),
    (crs.bd09_to_gcj02, crs.gcj02_to_bd09, (116.39762729119315, 39.90865673957631)),
    (crs.bd09_to_wgs84, crs.wgs84_to_bd09, (116.3913836995125, 39.907253214522164)),
]


@pytest.mark.parametrize(("inverse", "forward", "published"), PUBLISHED_INVERSE)
def test_inverses_beat_published_one_step_vectors(inverse, forward, published):
    given = (116.404, 39.915)
    ours = inverse(*given)
    assert metres(*forward(*ours), *given) < 1e-6
    assert metres(*forward(*published), *given) > CM
    assert metres(*ours, *published) < 0.5


def test_published_gcj02_to_wgs84_vector_is_the_one_step_inverse():
    # Pins our forward shift at a second point: the one-step formula built on it gives
    # the published value to 1e-9 degrees.
    gcj = np.array([116.404, 39.915])
    shifted = np.array(crs.wgs84_to_gcj02(*gcj))
    one_step = 2 * gcj - shifted
    np.testing.assert_allclose(one_step, [116.39775550083061, 39.91359571849836], atol=1e-9)


# --- outside China, NaN, shapes ---------------------------------------------------------


@pytest.mark.parametrize("point", [TOKYO, PARIS, NULL_ISLAND, (-74.006, 40.7128)])
@pytest.mark.parametrize("convert", [crs.wgs84_to_gcj02, crs.gcj02_to_wgs84])
def test_gcj02_leaves_points_outside_china_unchanged(convert, point):
    lng, lat = convert(*point)
    assert (float(lng), float(lat)) == point


@pytest.mark.parametrize("point", [TOKYO, PARIS, NULL_ISLAND])
def test_bd09_shift_applies_outside_china_as_published(point):
    # The published gcj02tobd09 has no China box; WGS84 -> BD-09 outside China is
    # therefore the bare BD-09 shift, and still inverts exactly.
    bd = crs.gcj02_to_bd09(*point)
    assert 100 < metres(*bd, *point) < 2_000
    np.testing.assert_array_equal(crs.wgs84_to_bd09(*point), bd)
    assert metres(*crs.bd09_to_wgs84(*bd), *point) < 1e-6
    assert metres(*crs.bd09_to_gcj02(*bd), *point) < 1e-6


ALL_CONVERSIONS = [
    crs.wgs84_to_gcj02,
    crs.gcj02_to_wgs84,
    crs.gcj02_to_bd09,
    crs.bd09_to_gcj02,
    crs.wgs84_to_bd09,
    crs.bd09_to_wgs84,
    lambda x, y: crs.to_wgs84(x, y, "EPSG:4548"),
    lambda x, y: crs.from_wgs84(x, y, "EPSG:32650"),
    lambda x, y: crs.to_wgs84(x, y, "wgs84"),
]


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_nan_or_inf_in_either_coordinate_gives_nan_in_both(convert):
    lng = np.array([np.nan, 116.4, np.nan, np.inf, 116.4, 139.7])
    lat = np.array([np.nan, np.nan, 39.9, 39.9, -np.inf, np.nan])
    out_lng, out_lat = convert(lng, lat)
    assert np.isnan(out_lng).all()
    assert np.isnan(out_lat).all()


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_conversions_accept_empty_arrays(convert):
    out_lng, out_lat = convert(np.array([]), [])
    assert out_lng.shape == out_lat.shape == (0,)
    assert out_lng.dtype == np.float64


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_scalars_in_give_0d_arrays_out(convert):
    out_lng, out_lat = convert(116.4, 39.9)
    assert out_lng.shape == out_lat.shape == ()
    assert np.isfinite(float(out_lng)) and np.isfinite(float(out_lat))


def test_nan_row_does_not_disturb_the_other_rows():
    lng, lat = np.array([116.404, np.nan]), np.array([39.915, 39.9])
    out_lng, _ = crs.gcj02_to_wgs84(lng, lat)
    assert out_lng[0] == crs.gcj02_to_wgs84(116.404, 39.915)[0]


def test_scalar_latitude_broadcasts_against_longitudes():
    out_lng, out_lat = crs.wgs84_to_gcj02([116.0, 117.0, 118.0], 39.9)
    assert out_lng.shape == out_lat.shape == (3,)
    assert out_lat[1] == crs.wgs84_to_gcj02(117.0, 39.9)[1]


def test_conversions_do_not_modify_their_inputs():
    lng, lat = np.array([116.404, 121.5]), np.array([39.915, 31.2])
    crs.bd09_to_wgs84(lng, lat)
    crs.gcj02_to_wgs84(lng, lat)
    assert lng.tolist() == [116.404, 121.5] and lat.tolist() == [39.915, 31.2]


# --- swapped fields and names -----------------------------------------------------------


def test_looks_swapped_flags_latitude_in_the_longitude_field():
    assert crs.looks_swapped(39.9, 116.4)
    assert not crs.looks_swapped(116.4, 39.9)
    np.testing.assert_array_equal(
        crs.looks_swapped([39.9, 116.4, np.nan, 2.35], [116.4, 39.9, 116.4, 48.86]),
        [True, False, False, False],
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("wgs84", "wgs84"),
        ("WGS-84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        ("gcj02", "gcj02"),
        ("AMap", "gcj02"),
        ("Tencent", "gcj02"),
        ("bd09", "bd09"),
        ("Baidu", "bd09"),
        ("cgcs2000", "EPSG:4490"),
        ("EPSG:4490", "EPSG:4490"),
        ("EPSG:4548", "EPSG:4548"),
        ("epsg:4548", "EPSG:4548"),
        ("4548", "EPSG:4548"),
        (4548, "EPSG:4548"),
        (" EPSG:32650 ", "EPSG:32650"),
    ],
)
def test_normalize_crs_accepts_known_names(name, expected):
    assert crs.normalize_crs(name) == expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("mars2000", "mars2000"),
        ("EPSG:999999", "EPSG:999999"),
        ("EPSG:4978", "not a 2-D"),  # geocentric WGS 84
        ("EPSG:5773", "not a 2-D"),  # a vertical datum
    ],
)
def test_normalize_crs_rejects_unknown_or_unusable_systems_by_name(name, reason):
    with pytest.raises(ValueError, match=reason):
        crs.normalize_crs(name)


def test_to_wgs84_rejects_unknown_system():
    with pytest.raises(ValueError, match="mars2000"):
        crs.to_wgs84([116.4], [39.9], "mars2000")
