"""Great-circle distances on a sphere of the mean Earth radius (6,371,008.8 m)."""

from __future__ import annotations

import math

import pytest

from libs.common import geo

ONE_DEGREE_OF_ARC_M = 2 * math.pi * 6_371_008.8 / 360  # 111,195.08 m


def test_one_degree_along_a_meridian_is_one_360th_of_the_great_circle() -> None:
    assert geo.distance_m(24.0, 118.0, 25.0, 118.0) == pytest.approx(ONE_DEGREE_OF_ARC_M, abs=0.01)
    assert geo.distance_km(24.0, 118.0, 25.0, 118.0) == pytest.approx(ONE_DEGREE_OF_ARC_M / 1000, abs=1e-5)


def test_a_degree_of_longitude_shrinks_with_the_cosine_of_latitude_near_the_equator() -> None:
    assert geo.distance_m(0.0, 118.0, 0.0, 119.0) == pytest.approx(ONE_DEGREE_OF_ARC_M, abs=0.01)
    at_60 = geo.distance_m(60.0, 118.0, 60.0, 118.001)
    assert at_60 == pytest.approx(ONE_DEGREE_OF_ARC_M * 0.001 / 2, rel=1e-6)


def test_the_same_point_is_zero_and_the_distance_is_symmetric() -> None:
    assert geo.distance_m(24.48, 118.09, 24.48, 118.09) == 0.0
    there = geo.distance_m(24.48, 118.09, 26.07, 119.30)
    back = geo.distance_m(26.07, 119.30, 24.48, 118.09)
    assert there == back
    assert 200_000 < there < 230_000  # 厦门 → 福州, about 215 km in a straight line


def test_the_bounding_box_holds_every_point_on_the_circle() -> None:
    box = geo.bounding_box(24.48, 118.09, 5_000)
    for bearing in range(0, 360, 15):
        # walk 4,999 m along the bearing and check the point is inside the box
        d = 4_999 / geo.EARTH_RADIUS_M
        phi1, lam1, theta = math.radians(24.48), math.radians(118.09), math.radians(bearing)
        phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
        lam2 = lam1 + math.atan2(
            math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
        )
        lat, lng = math.degrees(phi2), math.degrees(lam2)
        assert geo.distance_m(24.48, 118.09, lat, lng) == pytest.approx(4_999, abs=0.5)
        assert box.min_latitude <= lat <= box.max_latitude
        assert box.min_longitude <= lng <= box.max_longitude
