"""The travel model interface and its default, the straight-line model (README "Travel times")."""

from __future__ import annotations

import math

import pytest

from dispatch_tui.travel.haversine import EARTH_RADIUS_KM
from dispatch_tui.travel.model import HaversineModel, TravelModel, cache_key


def _north(lat: float, km: float) -> float:
    return lat + math.degrees(km / EARTH_RADIUS_KM)


LYON = (45.76, 4.84)
TEN_KM_NORTH = (_north(45.76, 10.0), 4.84)  # 10 km * 1.3 / 40 km/h * 60 = 19.5 -> 20 min
TWENTY_KM_NORTH = (_north(45.76, 20.0), 4.84)  # 39 -> 39 min; 10 km from TEN_KM_NORTH -> 20 min


def test_matrix_has_hand_checkable_values_a_zero_diagonal_and_is_symmetric() -> None:
    model = HaversineModel()
    assert model.matrix([LYON, TEN_KM_NORTH, TWENTY_KM_NORTH]) == [
        [0, 20, 39],
        [20, 0, 20],
        [39, 20, 0],
    ]


def test_matrix_agrees_with_minutes_and_is_symmetric_on_scattered_points() -> None:
    model = HaversineModel()
    points = [(45.0 + 0.037 * k, 4.0 + 0.061 * ((k * 7) % 11)) for k in range(25)]
    matrix = model.matrix(points)
    for i, a in enumerate(points):
        assert matrix[i][i] == 0
        for j, b in enumerate(points):
            assert matrix[i][j] == matrix[j][i] == model.minutes(a, b)


def test_road_factor_and_speed_are_used() -> None:
    # 10 km * 1.0 / 60 km/h * 60 = 10 min; 10 km * 1.5 / 30 km/h * 60 = 30 min
    assert HaversineModel(1.0, 60.0).minutes(LYON, TEN_KM_NORTH) == 10
    assert HaversineModel(road_factor=1.5, speed_kmh=30.0).matrix([LYON, TEN_KM_NORTH]) == [[0, 30], [30, 0]]


def test_identical_points_and_empty_or_single_matrices() -> None:
    model = HaversineModel()
    assert model.matrix([]) == []
    assert model.matrix([LYON]) == [[0]]
    assert model.matrix([LYON, LYON, TEN_KM_NORTH]) == [[0, 0, 20], [0, 0, 20], [20, 20, 0]]


@pytest.mark.parametrize(("road_factor", "speed_kmh"), [(0.0, 40.0), (1.3, 0.0), (1.3, -1.0)])
def test_nonsense_parameters_are_refused_up_front(road_factor: float, speed_kmh: float) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        HaversineModel(road_factor, speed_kmh)


def test_the_haversine_model_is_a_travel_model() -> None:
    model: TravelModel = HaversineModel()  # checked by mypy; and by duck typing here
    assert model.matrix([LYON, LYON]) == [[0, 0], [0, 0]]


def test_cache_key_rounds_to_five_decimals() -> None:
    assert cache_key((45.123456789, -4.000004)) == (45.12346, -4.0)
    assert cache_key((45.123454, 4.84)) == cache_key((45.123446, 4.84)) == (45.12345, 4.84)
