"""The default travel model (README "Travel times"), checked against hand-computed values."""

from __future__ import annotations

import math

import pytest

from dispatch_tui.travel.haversine import EARTH_RADIUS_KM, haversine_km, travel_minutes

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)


def _km_north(lat: float, km: float) -> float:
    """The latitude ``km`` due north of ``lat`` on the 6371.0 km sphere."""
    return lat + math.degrees(km / EARTH_RADIUS_KM)


def test_paris_london_is_about_343_km() -> None:
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(343.5, abs=1.0)


def test_distance_is_symmetric() -> None:
    assert haversine_km(*PARIS, *LONDON) == pytest.approx(haversine_km(*LONDON, *PARIS))


def test_one_degree_along_the_equator() -> None:
    # 2 * pi * 6371.0 / 360 = 111.19 km
    assert haversine_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.195, abs=0.001)


def test_identical_points_are_zero_km_and_zero_minutes() -> None:
    assert haversine_km(45.76, 4.84, 45.76, 4.84) == 0.0
    assert travel_minutes(45.76, 4.84, 45.76, 4.84) == 0


def test_antipodes_are_half_the_circumference() -> None:
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * 6371.0)


def test_ten_km_hop_takes_ceil_of_19_5_minutes() -> None:
    # 10 km * 1.3 road factor / 40 km/h * 60 = 19.5 → 20
    lat2 = _km_north(45.76, 10.0)
    assert haversine_km(45.76, 4.84, lat2, 4.84) == pytest.approx(10.0, abs=1e-9)
    assert travel_minutes(45.76, 4.84, lat2, 4.84) == math.ceil(10 * 1.3 / 40 * 60) == 20


def test_a_few_metres_still_cost_a_minute() -> None:
    assert travel_minutes(45.76, 4.84, _km_north(45.76, 0.01), 4.84) == 1


def test_road_factor_and_speed_are_parameters() -> None:
    lat2 = _km_north(45.76, 10.0)
    # 10 km * 1.0 / 60 km/h * 60 = 10 minutes exactly: float noise either side must not make it 11
    assert travel_minutes(45.76, 4.84, lat2, 4.84, road_factor=1.0, speed_kmh=60.0) == 10
    # 10 km * 1.5 / 30 km/h * 60 = 30 minutes
    assert travel_minutes(45.76, 4.84, lat2, 4.84, road_factor=1.5, speed_kmh=30.0) == 30
    # 10 km * 2.0 / 40 km/h * 60 = 30 > 19.5 with the defaults
    assert travel_minutes(45.76, 4.84, lat2, 4.84, road_factor=2.0) > travel_minutes(45.76, 4.84, lat2, 4.84)


def test_exact_whole_minutes_are_not_rounded_up_by_float_noise() -> None:
    # 40 km along the equator at road factor 1.0 and 40 km/h is 60 minutes; a hair more is 61.
    lon2 = math.degrees(40.0 / EARTH_RADIUS_KM)
    assert travel_minutes(0.0, 0.0, 0.0, lon2, road_factor=1.0, speed_kmh=40.0) == 60
    assert travel_minutes(0.0, 0.0, 0.0, lon2 * 1.000001, road_factor=1.0, speed_kmh=40.0) == 61


def test_paris_london_minutes() -> None:
    km = haversine_km(*PARIS, *LONDON)
    assert travel_minutes(*PARIS, *LONDON) == math.ceil(km * 1.3 / 40 * 60)


@pytest.mark.parametrize(("road_factor", "speed_kmh"), [(1.3, 0.0), (1.3, -5.0), (0.0, 40.0)])
def test_nonsense_settings_are_refused(road_factor: float, speed_kmh: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        travel_minutes(45.76, 4.84, 45.8, 4.9, road_factor=road_factor, speed_kmh=speed_kmh)
