"""Dependencies of the 示范 routes: permissions, and "today" in Asia/Shanghai (deadlines are business dates).

Tests move "today" with ``app.dependency_overrides[today] = lambda: date(...)``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends

from libs.common.auth import Principal
from services.registry.permissions import POLICY

# China has had no daylight saving time since 1991: a fixed offset is exact and needs no tzdata.
CHINA_TZ = timezone(timedelta(hours=8), name="Asia/Shanghai")


def today() -> date:
    """The business date now, in Asia/Shanghai."""
    return datetime.now(UTC).astimezone(CHINA_TZ).date()


Today = Annotated[date, Depends(today)]


DemonstrationRead = Annotated[Principal, Depends(POLICY.require("demonstration:read"))]
DemonstrationApply = Annotated[Principal, Depends(POLICY.require("demonstration:apply"))]
DemonstrationBatches = Annotated[Principal, Depends(POLICY.require("demonstration:batches"))]
DemonstrationReview = Annotated[Principal, Depends(POLICY.require("demonstration:review"))]
DemonstrationCountyReview = Annotated[Principal, Depends(POLICY.require("demonstration:county-review"))]
DemonstrationCityReview = Annotated[Principal, Depends(POLICY.require("demonstration:city-review"))]
DemonstrationProvinceReview = Annotated[Principal, Depends(POLICY.require("demonstration:province-review"))]
DemonstrationSummaries = Annotated[Principal, Depends(POLICY.require("demonstration:summaries"))]
