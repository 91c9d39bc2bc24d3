from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Query, UploadFile, status

from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from libs.common.text import MultiLine, SingleLine
from services.homecare.catalog import importing, service
from services.homecare.catalog.models import CatalogVersion
from services.homecare.catalog.schemas import CatalogItemRead, CatalogRead, CatalogVersionRead
from services.homecare.permissions import CatalogRead as CatalogReader
from services.homecare.permissions import CatalogWrite

router = ServiceRouter(prefix="/api/v1/homecare/catalog", tags=["homecare-catalog"])


def _read(version: CatalogVersion, *, is_current: bool) -> CatalogRead:
    return CatalogRead(
        version=CatalogVersionRead.model_validate(version),
        is_current=is_current,
        items=[CatalogItemRead.model_validate(item) for item in version.items],
    )


@router.get(
    "",
    summary="护理服务项目目录（当前版本或指定版本）",
    operation_id="homecare_get_catalog",
    response_model=CatalogRead,
    responses=problem_responses(401, 403, 404),
)
async def get_catalog(
    session: SessionDep,
    principal: CatalogReader,
    version: Annotated[SingleLine | None, Query(max_length=40, description="版本编码，默认当前版本")] = None,
) -> CatalogRead:
    current = await service.current_version(session)
    chosen = await service.get_version(session, version or current.code)
    return _read(chosen, is_current=chosen.id == current.id)


@router.get(
    "/versions",
    summary="目录版本列表",
    operation_id="homecare_list_catalog_versions",
    response_model=list[CatalogVersionRead],
    responses=problem_responses(401, 403),
)
async def list_versions(session: SessionDep, principal: CatalogReader) -> list[CatalogVersionRead]:
    return [CatalogVersionRead.model_validate(v) for v in await service.list_versions(session)]


@router.post(
    "/versions",
    summary="导入并发布新版目录（CSV 或 XLSX，整体校验，全部成功或全部不写入）",
    operation_id="homecare_publish_catalog_version",
    status_code=status.HTTP_201_CREATED,
    response_model=CatalogRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def publish_version(
    session: SessionDep,
    principal: CatalogWrite,
    file: Annotated[UploadFile, File(description="目录文件（.csv UTF-8 或 .xlsx）")],
    code: Annotated[str, Form(pattern=r"^[A-Za-z0-9._-]{1,40}$", description="版本编码，如 official-2027")],
    source: Annotated[SingleLine, Form(min_length=2, max_length=500, description="来源（文件名、发文号）")],
    note: Annotated[MultiLine | None, Form(max_length=2000)] = None,
) -> CatalogRead:
    data = await file.read(importing.MAX_BYTES + 1)
    items = importing.parse(file.filename or "", data)
    version = await service.publish(session, principal, code=code, source=source, note=note, items=items)
    return _read(await service.get_version(session, version.code), is_current=True)
