"""The reference tables over HTTP: ``/population`` and ``/targets`` (JSON list, versions, XLSX in and out).

Every load is a new version (all or nothing); ``?version=`` reads an older one, the default is the
current (latest). Province admins load; officials read in their scope.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, cast

from fastapi import Depends, File, Query, Request, Response, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.database import SessionDep
from libs.common.downloads import attachment
from libs.common.errors import Unprocessable, problem_responses
from libs.common.pagination import Page, PageDep, PageParams
from libs.common.routing import ServiceRouter
from services.indicators.permissions import ReferenceRead, ReferenceWrite
from services.indicators.reference import service
from services.indicators.reference.catalogue import Dataset
from services.indicators.reference.schemas import (
    PopulationFilter,
    PopulationPage,
    TargetFilter,
    TargetPage,
    VersionRead,
)
from services.indicators.reference.spreadsheet import XLSX_MEDIA_TYPE
from services.indicators.settings import IndicatorsSettings

router = ServiceRouter(prefix="/api/v1/indicators", tags=["indicators-reference"])

VersionQuery = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="版本号；不填为当前版本（最新一次导入）")
]
RegionQuery = Annotated[
    str | None,
    Query(pattern=r"^\d{6}$", description="只看该区域（全省 350000、设区市、平潭 350128 或县）内的行"),
]
XLSX_FILE = Annotated[UploadFile, File(description="XLSX 文件（中文表头，与导出同一格式）")]


async def _settings(request: Request) -> IndicatorsSettings:
    return cast(IndicatorsSettings, request.app.state.settings)


SettingsDep = Annotated[IndicatorsSettings, Depends(_settings)]


async def population_filter(
    version: VersionQuery = None,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="年份")] = None,
    region: RegionQuery = None,
) -> PopulationFilter:
    return PopulationFilter(version=version, year=year, region=region)


async def target_filter(
    version: VersionQuery = None,
    indicator: Annotated[str | None, Query(max_length=60, description="指标代码")] = None,
    region: RegionQuery = None,
    due_on_or_before: Annotated[date | None, Query(description="只看截止日期不晚于该日的目标")] = None,
) -> TargetFilter:
    return TargetFilter(
        version=version, indicator=indicator, region=region, due_on_or_before=due_on_or_before
    )


PopulationFilterDep = Annotated[PopulationFilter, Depends(population_filter)]
TargetFilterDep = Annotated[TargetFilter, Depends(target_filter)]


def _xlsx(content: bytes, name: str, version: int | None) -> Response:
    filename = f"{name}_v{version}.xlsx" if version else f"{name}_模板.xlsx"
    return attachment(content, filename, XLSX_MEDIA_TYPE)


async def _load(
    session: AsyncSession,
    principal: Principal,
    settings: IndicatorsSettings,
    dataset: Dataset,
    file: UploadFile,
) -> VersionRead:
    """Read the upload (at most ``reference_import_max_bytes``) and load it as the dataset's new version."""
    cap = settings.reference_import_max_bytes
    content = await file.read(cap + 1)
    if len(content) > cap:
        raise Unprocessable(
            f"文件超过 {cap:,} 字节（file too large）", code="file_too_large", extra={"max_bytes": cap}
        )
    return await service.load_file(
        session,
        principal,
        dataset,
        content,
        filename=file.filename,
        max_rows=settings.reference_import_max_rows,
    )


async def _versions(session: AsyncSession, dataset: Dataset, page: PageParams) -> Page[VersionRead]:
    items, next_cursor = await service.versions(session, dataset, page)
    return Page[VersionRead](items=items, next_cursor=next_cursor, limit=page.limit)


_XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": "XLSX 文件", "content": {XLSX_MEDIA_TYPE: {}}}
}
_IMPORT_DESCRIPTION = (
    "先校验全部行，全部无误才写入，作为新版本（旧版本保留，可用 ?version= 查看）；"
    "任一行有误则 422 import_rejected，不写入任何数据，errors 与 extra.rows 逐行列出"
    "（行号 line、列 column、错误码 code、说明 message）。"
    "文件大小与行数上限见设置 INDICATORS_REFERENCE_IMPORT_MAX_BYTES / _MAX_ROWS。"
)


# ----------------------------------------------------------------------------------- population


@router.get(
    "/population",
    summary="常住人口与65岁及以上人口（按县、年份）",
    description="当前版本或 ?version= 指定版本；只返回本辖区的县。",
    operation_id="indicators_list_population",
    response_model=PopulationPage,
    responses=problem_responses(401, 403, 404, 422),
)
async def list_population(
    session: SessionDep, principal: ReferenceRead, filters: PopulationFilterDep, page: PageDep
) -> PopulationPage:
    return await service.population_page(session, principal, filters, page)


@router.get(
    "/population/versions",
    summary="常住人口表的各版本（导入人、时间、行数、来源）",
    operation_id="indicators_population_versions",
    response_model=Page[VersionRead],
    responses=problem_responses(401, 403, 422),
)
async def population_versions(
    session: SessionDep, _principal: ReferenceRead, page: PageDep
) -> Page[VersionRead]:
    return await _versions(session, Dataset.population, page)


@router.get(
    "/population/export",
    summary="导出常住人口表（XLSX，与导入同一格式；未导入过时为空模板）",
    operation_id="indicators_export_population",
    response_class=Response,
    responses={**_XLSX_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def export_population(
    session: SessionDep, principal: ReferenceRead, filters: PopulationFilterDep
) -> Response:
    content, version = await service.population_export(session, principal, filters)
    return _xlsx(content, "常住人口", version.number if version else None)


@router.post(
    "/population/import",
    summary="导入常住人口表（XLSX，整表替换为新版本，全部无误才写入）",
    description=_IMPORT_DESCRIPTION,
    operation_id="indicators_import_population",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def import_population(
    session: SessionDep, principal: ReferenceWrite, settings: SettingsDep, file: XLSX_FILE
) -> VersionRead:
    return await _load(session, principal, settings, Dataset.population, file)


# -------------------------------------------------------------------------------------- targets


@router.get(
    "/targets",
    summary="指标目标（指标、区域或逐县、比较、目标值、截止日期、来源）",
    description=(
        "当前版本或 ?version= 指定版本。县、市只看到适用于本辖区的目标（全省的、本市的、本县的，"
        "及本辖区内各区域的目标）。比率类目标值以小数表示（0.85 即 85%）。"
    ),
    operation_id="indicators_list_targets",
    response_model=TargetPage,
    responses=problem_responses(401, 403, 404, 422),
)
async def list_targets(
    session: SessionDep, principal: ReferenceRead, filters: TargetFilterDep, page: PageDep
) -> TargetPage:
    return await service.targets_page(session, principal, filters, page)


@router.get(
    "/targets/versions",
    summary="指标目标表的各版本（导入人、时间、行数、来源）",
    operation_id="indicators_target_versions",
    response_model=Page[VersionRead],
    responses=problem_responses(401, 403, 422),
)
async def target_versions(session: SessionDep, _principal: ReferenceRead, page: PageDep) -> Page[VersionRead]:
    return await _versions(session, Dataset.targets, page)


@router.get(
    "/targets/export",
    summary="导出指标目标表（XLSX，与导入同一格式；未导入过时为空模板）",
    operation_id="indicators_export_targets",
    response_class=Response,
    responses={**_XLSX_RESPONSE, **problem_responses(401, 403, 404, 422)},
)
async def export_targets(session: SessionDep, principal: ReferenceRead, filters: TargetFilterDep) -> Response:
    content, version = await service.targets_export(session, principal, filters)
    return _xlsx(content, "指标目标", version.number if version else None)


@router.post(
    "/targets/import",
    summary="导入指标目标表（XLSX，整表替换为新版本，全部无误才写入）",
    description=_IMPORT_DESCRIPTION,
    operation_id="indicators_import_targets",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def import_targets(
    session: SessionDep, principal: ReferenceWrite, settings: SettingsDep, file: XLSX_FILE
) -> VersionRead:
    return await _load(session, principal, settings, Dataset.targets, file)
