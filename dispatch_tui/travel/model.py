"""What every travel model offers: a matrix of whole driving minutes between points.

Pure: no store, no UI, no network here. The default model is the straight-line one (``HaversineModel``);
an OSRM-compatible routing server (``dispatch_tui.travel.osrm``) replaces it when configured, with a
``MatrixCache`` injected by the services so that the same pair is asked for only once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

from dispatch_tui.travel.haversine import DEFAULT_ROAD_FACTOR, DEFAULT_SPEED_KMH, travel_minutes

Point = tuple[float, float]  # (lat, lon) in degrees

CACHE_DECIMALS = 5  # 1e-5 degree is about 1 m: closer points are the same place for travel


class TravelUnavailable(Exception):
    """No travel time can be given (routing server down or refusing, no route) and no fallback is allowed.

    The message says what went wrong and what to do about it.
    """


class TravelModel(Protocol):
    def matrix(self, points: Sequence[Point]) -> list[list[int]]:
        """Whole minutes, ``[i][j]`` from ``points[i]`` to ``points[j]``; 0 on the diagonal."""
        ...


class MatrixCache(Protocol):
    """Travel minutes already known, keyed by ``(cache_key(from), cache_key(to))``."""

    def get_many(self, pairs: Collection[tuple[Point, Point]]) -> dict[tuple[Point, Point], int]:
        """The known minutes of those of ``pairs`` that are cached (the others are simply absent)."""
        ...

    def put_many(self, entries: Mapping[tuple[Point, Point], int]) -> None:
        """Remember these minutes, replacing what was known for the same pairs."""
        ...


def cache_key(p: Point) -> Point:
    """The point rounded to 5 decimals (~1 m): how caches and routing requests name a place."""
    return (round(p[0], CACHE_DECIMALS), round(p[1], CACHE_DECIMALS))


class HaversineModel:
    """The default model (README: Travel times): ``ceil(haversine_km * road_factor / speed_kmh * 60)``, no network."""

    def __init__(self, road_factor: float = DEFAULT_ROAD_FACTOR, speed_kmh: float = DEFAULT_SPEED_KMH) -> None:
        if road_factor <= 0:
            raise ValueError(f"road_factor must be positive, got {road_factor}")
        if speed_kmh <= 0:
            raise ValueError(f"speed_kmh must be positive, got {speed_kmh}")
        self.road_factor = road_factor
        self.speed_kmh = speed_kmh

    def __repr__(self) -> str:
        return f"HaversineModel(road_factor={self.road_factor}, speed_kmh={self.speed_kmh})"

    def minutes(self, a: Point, b: Point) -> int:
        return travel_minutes(a[0], a[1], b[0], b[1], self.road_factor, self.speed_kmh)

    def matrix(self, points: Sequence[Point]) -> list[list[int]]:
        # The distance is symmetric (bit for bit: the formula only squares differences and multiplies
        # cosines), so each pair is computed once.
        n = len(points)
        result = [[0] * n for _ in range(n)]
        for i in range(n):
            row = result[i]
            for j in range(i + 1, n):
                row[j] = result[j][i] = self.minutes(points[i], points[j])
        return result
