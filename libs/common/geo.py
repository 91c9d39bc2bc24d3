"""Distances on the Earth's surface (WGS-84 coordinates in degrees, a spherical Earth of mean radius).

Good to well under 0.5 % at the scale of a province — enough for "institutions near here" and for
checking a nurse's check-in against the service address.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

#: the mean Earth radius (IUGG), metres
EARTH_RADIUS_M: Final = 6_371_008.8


def distance_m(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(latitude1), math.radians(latitude2)
    dphi = phi2 - phi1
    dlambda = math.radians(longitude2 - longitude1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_km(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """Great-circle (haversine) distance in kilometres."""
    return distance_m(latitude1, longitude1, latitude2, longitude2) / 1000


class BoundingBox(NamedTuple):
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float


def bounding_box(latitude: float, longitude: float, radius_m: float) -> BoundingBox:
    """A latitude/longitude box holding every point within ``radius_m`` of the centre (an index-friendly
    pre-filter; check :func:`distance_m` on what it lets through)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat))
    return BoundingBox(latitude - dlat, latitude + dlat, longitude - dlng, longitude + dlng)
