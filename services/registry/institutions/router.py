from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response, status

from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.registry.institutions import service
from services.registry.institutions.models import InstitutionKind
from services.registry.institutions.schemas import InstitutionCreate, InstitutionRead
from services.registry.permissions import InstitutionsRead, InstitutionsWrite

router = ServiceRouter(prefix="/api/v1/registry/institutions", tags=["institutions"])


@router.get(
    "",
    summary="机构列表",
    operation_id="registry_list_institutions",
    response_model=Page[InstitutionRead],
    responses=problem_responses(401, 403, 422),
)
async def list_institutions(
    session: SessionDep,
    principal: InstitutionsRead,
    page: PageDep,
    kind: Annotated[InstitutionKind | None, Query(description="机构类别")] = None,
) -> Page[InstitutionRead]:
    rows, next_cursor = await service.list_(session, principal, params=page, kind=kind)
    return Page(
        items=[InstitutionRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.get(
    "/{institution_id}",
    summary="机构详情",
    operation_id="registry_get_institution",
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 404),
)
async def get_institution(
    session: SessionDep, principal: InstitutionsRead, institution_id: uuid.UUID, response: Response
) -> InstitutionRead:
    institution = await service.get(session, principal, institution_id)
    set_etag(response, institution.version)
    return InstitutionRead.model_validate(institution)


@router.post(
    "",
    summary="新增机构",
    operation_id="registry_create_institution",
    status_code=status.HTTP_201_CREATED,
    response_model=InstitutionRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_institution(
    session: SessionDep, principal: InstitutionsWrite, data: InstitutionCreate, response: Response
) -> InstitutionRead:
    institution = await service.create(session, principal, data)
    set_etag(response, institution.version)
    response.headers["Location"] = f"{router.prefix}/{institution.id}"
    return InstitutionRead.model_validate(institution)
