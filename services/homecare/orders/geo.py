"""Plausibility of a nurse's reported positions: distance from the address, mock locations, speed."""

from __future__ import annotations

from datetime import datetime

from libs.common.geo import distance_m

__all__ = ["FAR_FROM_ADDRESS", "FLAG_LABELS", "IMPLAUSIBLE_SPEED", "MOCK_LOCATION", "distance_m", "speed_kmh"]

FAR_FROM_ADDRESS = "far_from_address"
MOCK_LOCATION = "mock_location"
IMPLAUSIBLE_SPEED = "implausible_speed"

FLAG_LABELS = {
    FAR_FROM_ADDRESS: "签到位置距服务地址过远",
    MOCK_LOCATION: "手机报告模拟位置",
    IMPLAUSIBLE_SPEED: "两次定位间移动速度不合理",
}


def speed_kmh(distance: float, earlier: datetime, later: datetime) -> float:
    seconds = max((later - earlier).total_seconds(), 1.0)
    return distance / seconds * 3.6
