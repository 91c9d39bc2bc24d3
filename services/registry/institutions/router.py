"""``/api/v1/registry/institutions``: CRUD with scope, list with filters, nearby, history, year stats."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Body, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from libs.common.audit import record_disclosures
from libs.common.cached_routes import early_cache_hits
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.response_cache import (
    NOT_MODIFIED,
    PageAt,
    cached_page,
    cached_page_at,
    caller_view,
    head_of,
    key_of,
)
from libs.common.routing import ServiceRouter
from libs.common.row_pages import json_bytes, page_json
from services.registry.deps import CipherDep, SettingsDep
from services.registry.institutions import service
from services.registry.institutions.deps import InstitutionFilterDep, NearbyPointDep
from services.registry.institutions.kinds import (
    BED_LABELS,
    CAPABILITY_LABELS,
    CATEGORIES_OF_KIND,
    CATEGORY_LABELS,
    ELDERLY_CARE_OWNERSHIP_LABELS,
    HOSPITAL_GRADE_LABELS,
    HOSPITAL_TYPE_LABELS,
    INTEGRATED_MODEL_LABELS,
    KIND_LABELS,
    LICENCE_TYPE_LABELS,
    OWNERSHIP_LABELS,
    WS218_KIND_CODES,
    Category,
    InstitutionKind,
)
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import (
    ChangeHistoryEntry,
    EnumValue,
    InstitutionCreate,
    InstitutionEnums,
    InstitutionRead,
    InstitutionUpdate,
    NearbyInstitution,
    YearStatRead,
    YearStatWrite,
)
from services.registry.permissions import (
    InstitutionsCreate,
    InstitutionsDeactivate,
    InstitutionsHistory,
    InstitutionsRead,
    InstitutionsUpdate,
    YearStatsRead,
    YearStatsWrite,
)

router = ServiceRouter(prefix="/api/v1/registry/institutions", tags=["institutions"])

VisibleInstitution = Annotated[
    Institution, Depends(load_visible(service.get, permission=InstitutionsRead, id_name="institution_id"))
]


class StateChange(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "机构停业整顿"}]})

    reason: str | None = Field(default=None, max_length=500, description="原因")


def _values(mapping: Mapping[Any, str]) -> list[EnumValue]:
    return [EnumValue(value=str(key), label=label) for key, label in mapping.items()]


@router.get(
    "/enums",
    summary="机构分类及其中文名称",
    operation_id="registry_institution_enums",
    response_model=InstitutionEnums,
    responses=problem_responses(401, 403),
)
async def institution_enums(principal: InstitutionsRead) -> InstitutionEnums:
    return InstitutionEnums(
        kinds=_values(KIND_LABELS),
        categories=_values(CATEGORY_LABELS),
        categories_of_kind={str(k): sorted(str(c) for c in v) for k, v in CATEGORIES_OF_KIND.items()},
        hospital_grades=_values(HOSPITAL_GRADE_LABELS),
        hospital_types=_values(HOSPITAL_TYPE_LABELS),
        elderly_care_ownerships=_values(ELDERLY_CARE_OWNERSHIP_LABELS),
        integrated_models=_values(INTEGRATED_MODEL_LABELS),
        ownerships=_values(OWNERSHIP_LABELS),
        licence_types=_values(LICENCE_TYPE_LABELS),
        ws218_kind_codes=_values(WS218_KIND_CODES),
        capabilities=_values(CAPABILITY_LABELS),
        beds=_values(BED_LABELS),
    )


@router.get(
    "",
    summary="机构列表（筛选、名称搜索、游标分页）",
    operation_id="registry_list_institutions",
    response_model=Page[InstitutionRead],
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
@early_cache_hits  # hits answered before the dependencies (libs/common/cached_routes.py)
async def list_institutions(
    request: Request,
    session: SessionDep,
    principal: InstitutionsRead,
    page: PageDep,
    filters: InstitutionFilterDep,
    cipher: CipherDep,
) -> Response:
    # Straight from the rows to the page's bytes (libs/common/row_pages.py): the JSON of
    # Page[InstitutionRead], documented by response_model. Lists never disclose personal data (the
    # phone is masked); open the record to see it whole. The page reads the institution table only,
    # change-tracked: its bytes are kept while the registry's feed head stays (response_cache.py).
    async def make() -> PageAt:
        rows, next_cursor = await service.list_rows(session, principal, params=page, filters=filters)
        items = service.LIST_SHAPE.items(rows, cipher)
        return PageAt(page_json(items, next_cursor=next_cursor, limit=page.limit), head_of(rows))

    # the page's statement reads the feed head beside its rows: made afresh, one statement
    key = key_of("registry_list_institutions", caller_view(principal), page, filters)
    return await cached_page_at(request, session, key, make)


@router.get(
    "/nearby",
    summary="附近的机构（按距离排序，用于就近签约）",
    operation_id="registry_nearby_institutions",
    response_model=list[NearbyInstitution],
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422)},
)
@early_cache_hits  # hits answered before the dependencies (libs/common/cached_routes.py)
async def nearby_institutions(
    request: Request,
    session: SessionDep,
    principal: InstitutionsRead,
    cipher: CipherDep,
    settings: SettingsDep,
    point: NearbyPointDep,
    radius_km: Annotated[float, Query(gt=0, description="半径（公里）")] = 10.0,
    kind: Annotated[list[InstitutionKind] | None, Query(description="机构类别（可重复）")] = None,
    category: Annotated[list[Category] | None, Query(description="机构细类（可重复）")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
    radius = min(radius_km, settings.nearby_max_radius_km)

    async def make() -> bytes:
        found = await service.nearby_rows(
            session,
            principal,
            latitude=point.latitude,
            longitude=point.longitude,
            radius_km=radius,
            kinds=kind or (),
            categories=category or (),
            limit=limit,
        )
        # the JSON of list[NearbyInstitution] straight from the rows (as the list: row_pages.py)
        return json_bytes(
            [
                {"institution": service.LIST_SHAPE.item(row, cipher), "distance_km": distance}
                for row, distance in found
            ]
        )

    # the institution table only, as the list: kept while the feed head stays (response_cache.py)
    key = key_of(
        "registry_nearby_institutions",
        caller_view(principal),
        point,
        radius,
        sorted(kind or ()),
        sorted(category or ()),
        limit,
    )
    return await cached_page(request, session, key, make)


@router.get(
    "/{institution_id}",
    summary="机构详情",
    operation_id="registry_get_institution",
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 404),
)
async def get_institution(
    session: SessionDep,
    principal: InstitutionsRead,
    institution: VisibleInstitution,
    response: Response,
    cipher: CipherDep,
    request: Request,
) -> InstitutionRead:
    disclose = service.discloses_to(principal, institution) and institution.contact_phone_enc is not None
    if disclose:
        await record_disclosures(
            request,
            session,
            principal,
            entity_type=service.ENTITY,
            entity_ids=[institution.id],
            fields=service.PERSONAL_FIELDS,
        )
    set_etag(response, institution.version)
    return service.to_read(institution, cipher, disclose=disclose)


@router.post(
    "",
    summary="新增机构",
    operation_id="registry_create_institution",
    status_code=status.HTTP_201_CREATED,
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_institution(
    session: SessionDep,
    principal: InstitutionsCreate,
    data: InstitutionCreate,
    response: Response,
    cipher: CipherDep,
) -> InstitutionRead:
    institution, warnings = await service.create(session, principal, data, cipher=cipher)
    set_etag(response, institution.version)
    response.headers["Location"] = f"{router.prefix}/{institution.id}"
    return service.to_read(institution, cipher, disclose=False, warnings=warnings)


@router.patch(
    "/{institution_id}",
    summary="修改机构信息（需 If-Match）",
    operation_id="registry_update_institution",
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_institution(
    session: SessionDep,
    principal: InstitutionsUpdate,
    institution_id: uuid.UUID,
    data: InstitutionUpdate,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
) -> InstitutionRead:
    institution, warnings = await service.update(
        session, principal, institution_id, data, if_match=if_match, cipher=cipher
    )
    set_etag(response, institution.version)
    return service.to_read(institution, cipher, disclose=False, warnings=warnings)


@router.post(
    "/{institution_id}/deactivate",
    summary="停用机构（不删除；需 If-Match）",
    operation_id="registry_deactivate_institution",
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def deactivate_institution(
    session: SessionDep,
    principal: InstitutionsDeactivate,
    institution_id: uuid.UUID,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    body: Annotated[StateChange | None, Body()] = None,
) -> InstitutionRead:
    institution = await service.set_active(
        session,
        principal,
        institution_id,
        active=False,
        reason=body.reason if body else None,
        if_match=if_match,
    )
    set_etag(response, institution.version)
    return service.to_read(institution, cipher, disclose=False)


@router.post(
    "/{institution_id}/reactivate",
    summary="重新启用机构（需 If-Match）",
    operation_id="registry_reactivate_institution",
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def reactivate_institution(
    session: SessionDep,
    principal: InstitutionsDeactivate,
    institution_id: uuid.UUID,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    body: Annotated[StateChange | None, Body()] = None,
) -> InstitutionRead:
    institution = await service.set_active(
        session,
        principal,
        institution_id,
        active=True,
        reason=body.reason if body else None,
        if_match=if_match,
    )
    set_etag(response, institution.version)
    return service.to_read(institution, cipher, disclose=False)


@router.get(
    "/{institution_id}/history",
    summary="机构变更历史（谁、何时、改了哪些字段）",
    operation_id="registry_institution_history",
    response_model=Page[ChangeHistoryEntry],
    responses=problem_responses(401, 403, 404, 422),
)
async def institution_history(
    session: SessionDep, principal: InstitutionsHistory, institution_id: uuid.UUID, page: PageDep
) -> Page[ChangeHistoryEntry]:
    rows, next_cursor = await service.history(session, principal, institution_id, params=page)
    items = [
        ChangeHistoryEntry(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_sub=row.actor_sub,
            actor_role=row.actor_role,
            action=row.action,
            fields=sorted(key for key in (row.changes or {}) if key not in ("reason", "year")),
            changes=row.changes,
            request_id=row.request_id,
        )
        for row in rows
    ]
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


@router.get(
    "/{institution_id}/year-stats",
    summary="机构年度床位使用与入住统计",
    operation_id="registry_list_year_stats",
    response_model=list[YearStatRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_year_stats(
    session: SessionDep,
    principal: YearStatsRead,
    institution_id: uuid.UUID,
    year_from: Annotated[int | None, Query(ge=1949, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=1949, le=2100)] = None,
) -> list[YearStatRead]:
    rows = await service.list_year_stats(
        session, principal, institution_id, year_from=year_from, year_to=year_to
    )
    return [YearStatRead.model_validate(row) for row in rows]


@router.put(
    "/{institution_id}/year-stats/{year}",
    summary="填报某年度床位使用与入住统计（已有数据时需 If-Match）",
    operation_id="registry_put_year_stat",
    response_model=YearStatRead,
    responses={
        201: {"model": YearStatRead, "description": "该年度首次填报，已创建"},
        **problem_responses(401, 403, 404, 412, 422, 428),
    },
)
async def put_year_stat(
    session: SessionDep,
    principal: YearStatsWrite,
    institution_id: uuid.UUID,
    year: Annotated[int, Path(ge=1949, le=2100)],
    data: YearStatWrite,
    response: Response,
    if_match: IfMatch,
) -> YearStatRead:
    row, created = await service.put_year_stat(
        session, principal, institution_id, year, data, if_match=if_match
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    set_etag(response, row.version)
    return YearStatRead.model_validate(row)
