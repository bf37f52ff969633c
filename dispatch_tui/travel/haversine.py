"""The default travel model: great-circle distance, stretched by a road factor, driven at a fixed speed.

No network needed. ``minutes = ceil(haversine_km * road_factor / speed_kmh * 60)``; 0 between identical points.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0
DEFAULT_ROAD_FACTOR = 1.3
DEFAULT_SPEED_KMH = 40.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in decimal degrees, on a sphere of 6371.0 km."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def travel_minutes(
    lat1: float,
    lon1: float,
    lat2: float,
    lon2: float,
    road_factor: float = DEFAULT_ROAD_FACTOR,
    speed_kmh: float = DEFAULT_SPEED_KMH,
) -> int:
    """Whole minutes to drive between two points (rounded up); 0 between identical points."""
    if speed_kmh <= 0:
        raise ValueError(f"speed_kmh must be positive, got {speed_kmh}")
    if road_factor <= 0:
        raise ValueError(f"road_factor must be positive, got {road_factor}")
    km = haversine_km(lat1, lon1, lat2, lon2)
    if km == 0.0:
        return 0
    # Rounded to a microminute first so float noise (19.000000000000004) does not cost a whole extra minute.
    return math.ceil(round(km * road_factor / speed_kmh * 60, 6))
