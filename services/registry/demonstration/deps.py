"""Dependencies of the 示范 routes: permissions, and "today" in Asia/Shanghai (deadlines are business dates).

Tests move "today" with ``app.dependency_overrides[today] = lambda: date(...)``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends

from libs.common.auth import Principal
from libs.common.clock import today_in_china
from services.registry.permissions import POLICY


async def today() -> date:
    """The business date now, in Asia/Shanghai."""
    return today_in_china()


Today = Annotated[date, Depends(today)]


DemonstrationRead = Annotated[Principal, Depends(POLICY.require("demonstration:read"))]
DemonstrationApply = Annotated[Principal, Depends(POLICY.require("demonstration:apply"))]
DemonstrationBatches = Annotated[Principal, Depends(POLICY.require("demonstration:batches"))]
DemonstrationReview = Annotated[Principal, Depends(POLICY.require("demonstration:review"))]
DemonstrationCountyReview = Annotated[Principal, Depends(POLICY.require("demonstration:county-review"))]
DemonstrationCityReview = Annotated[Principal, Depends(POLICY.require("demonstration:city-review"))]
DemonstrationProvinceReview = Annotated[Principal, Depends(POLICY.require("demonstration:province-review"))]
DemonstrationSummaries = Annotated[Principal, Depends(POLICY.require("demonstration:summaries"))]
