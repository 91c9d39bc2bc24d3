"""Plausibility of a nurse's reported positions: distance from the address, mock locations, speed."""

from __future__ import annotations

import math
from datetime import datetime

EARTH_RADIUS_M = 6_371_008.8

FAR_FROM_ADDRESS = "far_from_address"
MOCK_LOCATION = "mock_location"
IMPLAUSIBLE_SPEED = "implausible_speed"

FLAG_LABELS = {
    FAR_FROM_ADDRESS: "签到位置距服务地址过远",
    MOCK_LOCATION: "手机报告模拟位置",
    IMPLAUSIBLE_SPEED: "两次定位间移动速度不合理",
}


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def speed_kmh(distance: float, earlier: datetime, later: datetime) -> float:
    seconds = max((later - earlier).total_seconds(), 1.0)
    return distance / seconds * 3.6
