"""``GET /api/v1/registry/stats``: institutions and beds by kind, per city or county, with scope totals."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from libs.common.cached_routes import early_cache_hits
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.response_cache import NOT_MODIFIED, cached_page, caller_view, key_of
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
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
@early_cache_hits  # hits answered before the dependencies (libs/common/cached_routes.py)
async def registry_stats(
    request: Request,
    session: SessionDep,
    principal: StatsRead,
    group_by: Annotated[
        GroupBy, Query(description="city：按设区市（平潭单列）；county：按县（市、区）")
    ] = GroupBy.city,
) -> Response:
    # counted from the institution table only (change-tracked): kept while the feed head stays
    # (libs/common/response_cache.py)
    async def make() -> bytes:
        stats = await service.registry_stats(session, principal, group_by=group_by)
        return stats.__pydantic_serializer__.to_json(stats)

    key = key_of("registry_stats", caller_view(principal), group_by)
    return await cached_page(request, session, key, make)
