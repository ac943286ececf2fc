import numpy as np
import shapely

from geo.crs import from_metric, to_metric
from geo.streets import nearest_street_names, nearest_streets

# A small street grid in the metric CRS (EPSG:4548, metres), near 西红门.
ORIGIN = shapely.get_coordinates(to_metric(shapely.Point(116.31, 39.785)))[0]


def _street(*xy):
    """A WGS84 line through points given in metres from ORIGIN."""
    return from_metric(shapely.LineString(np.asarray(xy, dtype=float) + ORIGIN))


def _lnglat(x, y):
    point = from_metric(shapely.Point(ORIGIN[0] + x, ORIGIN[1] + y))
    return point.x, point.y


EAST_WEST = _street((-500, 0), (500, 0))  # 兴旺路 along y = 0
NORTH_SOUTH = _street((300, -500), (300, 500))  # 民富街 along x = 300
STREETS = np.array([EAST_WEST, NORTH_SOUTH], dtype=object)
NAMES = np.array(["兴旺路", "民富街"], dtype=object)


def test_nearest_street_is_found_with_its_distance_in_metres():
    lng, lat = zip(_lnglat(0, 50), _lnglat(280, 200), _lnglat(-400, -30), strict=True)
    index, metres = nearest_streets(lng, lat, STREETS)
    assert index.tolist() == [0, 1, 0]
    np.testing.assert_allclose(metres, [50, 20, 30], atol=0.01)
    assert nearest_street_names(lng, lat, STREETS, NAMES).tolist() == ["兴旺路", "民富街", "兴旺路"]


def test_nearest_streets_agree_with_measuring_every_street():
    rng = np.random.default_rng(3)
    lines = np.array([_street(*rng.uniform(-1000, 1000, (3, 2))) for _ in range(40)], dtype=object)
    points = [_lnglat(*xy) for xy in rng.uniform(-1200, 1200, (500, 2))]
    lng, lat = np.array(points).T
    index, metres = nearest_streets(lng, lat, lines)
    distances = shapely.distance(
        to_metric(shapely.points(lng, lat))[:, None], to_metric(lines)[None, :]
    )
    np.testing.assert_array_equal(index, distances.argmin(axis=1))
    np.testing.assert_allclose(metres, distances.min(axis=1))


def test_points_beyond_max_distance_or_not_finite_get_no_street():
    lng, lat = zip(_lnglat(0, 50), _lnglat(0, 150), (np.nan, 39.78), strict=True)
    index, metres = nearest_streets(lng, lat, STREETS, max_distance=100)
    assert index.tolist() == [0, -1, -1]
    np.testing.assert_allclose(metres[0], 50, atol=0.01)
    assert np.isnan(metres[1:]).all()
    assert nearest_street_names(lng, lat, STREETS, NAMES, max_distance=100).tolist() == [
        "兴旺路",
        None,
        None,
    ]


def test_missing_or_empty_streets_are_never_chosen():
    streets = np.array([None, shapely.LineString(), NORTH_SOUTH], dtype=object)
    lng, lat = _lnglat(0, 0)
    index, _ = nearest_streets([lng], [lat], streets)
    assert index.tolist() == [2]
    none, metres = nearest_streets([lng], [lat], np.array([None], dtype=object))
    assert none.tolist() == [-1] and np.isnan(metres).all()
    assert nearest_street_names([lng], [lat], [], []).tolist() == [None]
