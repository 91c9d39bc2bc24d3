"""``/api/v1/registry/directory/institutions``: the partner directory (issue 15)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.pagination import PageDep
from libs.common.routing import ServiceRouter
from libs.common.text import SingleLine
from services.registry.directory import service
from services.registry.directory.schemas import DirectoryInstitution, DirectoryPage
from services.registry.institutions.kinds import InstitutionKind
from services.registry.permissions import DirectoryRead

router = ServiceRouter(prefix="/api/v1/registry/directory", tags=["directory"])


@router.get(
    "/institutions",
    summary="伙伴机构目录（可签约的机构，就近优先）",
    description=(
        "机构用户：可与本机构签订医养签约的在用机构——医疗机构看到养老机构与医养结合机构，养老机构、"
        "医养结合机构看到医疗机构——全省范围，本机构有经纬度时按距离由近及远排序。"
        "卫生健康部门：本辖区的在用机构，按行政区划、名称排序。"
        "只含公开信息（名称、类别、地址、等级、床位、经纬度），不含联系人、电话等个人信息。"
    ),
    operation_id="registry_directory_institutions",
    response_model=DirectoryPage,
    responses=problem_responses(401, 403, 404, 422),
)
async def directory_institutions(
    session: SessionDep,
    principal: DirectoryRead,
    page: PageDep,
    q: Annotated[
        SingleLine | None, Query(min_length=1, max_length=50, description="名称包含的文字（中文子串）")
    ] = None,
    kind: Annotated[
        list[InstitutionKind] | None, Query(description="机构类别（可重复）；机构用户只得到可签约的类别")
    ] = None,
    region_code: Annotated[
        str | None, Query(pattern=r"^35\d{4}$", description="行政区划（省/市/县代码）")
    ] = None,
) -> DirectoryPage:
    entries, next_cursor, nearest_first = await service.list_(
        session,
        principal,
        params=page,
        filters=service.DirectoryFilter(q=q, kinds=kind or (), region_code=region_code),
    )
    items = [
        DirectoryInstitution.model_validate(entry.institution).model_copy(
            update={"distance_km": entry.distance_km}
        )
        for entry in entries
    ]
    return DirectoryPage(items=items, next_cursor=next_cursor, limit=page.limit, nearest_first=nearest_first)
