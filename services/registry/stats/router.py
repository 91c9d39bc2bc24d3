"""``GET /api/v1/registry/stats``: institutions and beds by kind, per city or county, with scope totals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.registry.permissions import StatsRead
from services.registry.stats import service
from services.registry.stats.schemas import GroupBy, RegistryStats

router = ServiceRouter(prefix="/api/v1/registry", tags=["stats"])


@router.get(
    "/stats",
    summary="机构数与床位数统计（按市或县分组，含范围合计）",
    operation_id="registry_stats",
    response_model=RegistryStats,
    responses=problem_responses(401, 403, 422),
)
async def registry_stats(
    session: SessionDep,
    principal: StatsRead,
    group_by: Annotated[
        GroupBy, Query(description="city：按设区市（平潭单列）；county：按县（市、区）")
    ] = GroupBy.city,
) -> RegistryStats:
    return await service.registry_stats(session, principal, group_by=group_by)
