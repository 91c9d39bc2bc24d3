from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Header, Path, Query, Response, UploadFile, status

from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from libs.common.text import MultiLine, SingleLine
from services.homecare.catalog import importing, service
from services.homecare.catalog.errors import RecordTemplateNotFound
from services.homecare.catalog.models import CatalogVersion
from services.homecare.catalog.schemas import (
    CatalogItemRead,
    CatalogRead,
    CatalogVersionRead,
    ItemTemplateRead,
    TemplatesRead,
)
from services.homecare.deps import TemplatesDep
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


@router.get(
    "/items/{item_code}/template",
    summary="项目的服务记录模板（当前版本或指定版本）",
    description="提交服务记录时按所做项目的模板校验；version 为空时取当前版本。",
    operation_id="homecare_get_item_record_template",
    response_model=ItemTemplateRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_item_template(
    principal: CatalogReader,
    templates: TemplatesDep,
    item_code: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,20}$", description="目录项目编码")],
    version: Annotated[str | None, Query(max_length=40, description="模板版本，默认当前版本")] = None,
) -> ItemTemplateRead:
    chosen = templates.get(version)
    if chosen is None or item_code not in chosen.items:
        raise RecordTemplateNotFound()
    return ItemTemplateRead(
        item_code=item_code,
        version=chosen.version,
        status=chosen.status,
        base=chosen.base,
        item=chosen.items[item_code],
    )


@router.get(
    "/templates",
    summary="全部项目的服务记录模板（护士端离线缓存；支持 If-None-Match）",
    operation_id="homecare_get_record_templates",
    response_model=TemplatesRead,
    responses={
        304: {"description": "未变化（If-None-Match 与 ETag 相同）"},
        **problem_responses(401, 403, 404, 422),
    },
)
async def get_templates(
    principal: CatalogReader,
    templates: TemplatesDep,
    response: Response,
    version: Annotated[str | None, Query(max_length=40, description="模板版本，默认当前版本")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> TemplatesRead | Response:
    chosen = templates.get(version)
    if chosen is None:
        raise RecordTemplateNotFound("该模板版本不存在")
    tag = f'"{templates.etag}-{chosen.version}"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if if_none_match is not None and tag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response.headers.update(headers)
    return TemplatesRead(
        version=chosen.version,
        status=chosen.status,
        published_date=chosen.published_date,
        source=chosen.source,
        base=chosen.base,
        items=dict(chosen.items),
        versions=list(templates.versions),
    )
