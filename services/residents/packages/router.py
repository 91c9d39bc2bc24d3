"""/api/v1/residents/packages: versioned 签约服务包."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response, status

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.residents.deps import RegistryDep
from services.residents.packages import service
from services.residents.packages.models import ServicePackage
from services.residents.packages.rules import PackageKind, PackageStatus
from services.residents.packages.schemas import PackageCreate, PackageRead, PackageRevise
from services.residents.permissions import PackagesRead, PackagesWrite
from services.residents.teams.service import institution_of

router = ServiceRouter(prefix="/api/v1/residents/packages", tags=["residents-packages"])
VisiblePackage = Annotated[
    ServicePackage, Depends(load_visible(service.get, permission=PackagesRead, id_name="package_id"))
]


@router.get(
    "",
    summary="签约服务包列表（各版本；status=active 为在用版本）",
    operation_id="residents_list_packages",
    response_model=Page[PackageRead],
    responses=problem_responses(401, 403, 422),
)
async def list_packages(
    session: SessionDep,
    principal: PackagesRead,
    page: PageDep,
    institution_id: uuid.UUID | None = None,
    kind: PackageKind | None = None,
    status_: Annotated[PackageStatus | None, Query(alias="status")] = None,
    code: Annotated[str | None, Query(max_length=40)] = None,
) -> Page[PackageRead]:
    rows, next_cursor = await service.list_(
        session, principal, params=page, institution_id=institution_id, kind=kind, status=status_, code=code
    )
    return Page(items=[service.to_read(p) for p in rows], next_cursor=next_cursor, limit=page.limit)


@router.post(
    "",
    summary="发布签约服务包（第 1 版；基础包或个性化包）",
    operation_id="residents_create_package",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageRead,
    responses=problem_responses(401, 403, 409, 422, 502, 504),
)
async def create_package(
    session: SessionDep,
    principal: PackagesWrite,
    registry: RegistryDep,
    data: PackageCreate,
    response: Response,
) -> PackageRead:
    institution = await registry.get_institution(institution_of(principal))  # before the first statement
    package = await service.create(session, principal, data, institution)
    set_etag(response, package.version)
    response.headers["Location"] = f"{router.prefix}/{package.id}"
    return service.to_read(package)


@router.get(
    "/{package_id}",
    summary="签约服务包详情（某一版本）",
    operation_id="residents_get_package",
    response_model=PackageRead,
    responses=problem_responses(401, 403, 404),
)
async def get_package(package: VisiblePackage, response: Response) -> PackageRead:
    set_etag(response, package.version)
    return service.to_read(package)


@router.post(
    "/{package_id}/revise",
    summary="修订服务包：发布新版本（版本号 +1），原版本停用；已签约的合同保留签约时的版本",
    operation_id="residents_revise_package",
    status_code=status.HTTP_201_CREATED,
    response_model=PackageRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def revise_package(
    session: SessionDep,
    principal: PackagesWrite,
    package_id: uuid.UUID,
    data: PackageRevise,
    response: Response,
    if_match: IfMatch = None,
) -> PackageRead:
    package = await service.get(session, principal, package_id)
    revised = await service.revise(session, principal, package, data, if_match)
    set_etag(response, revised.version)
    response.headers["Location"] = f"{router.prefix}/{revised.id}"
    return service.to_read(revised)


@router.post(
    "/{package_id}/retire",
    summary="停用服务包（已签约的合同不受影响，新签约不能再选）",
    operation_id="residents_retire_package",
    response_model=PackageRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def retire_package(
    session: SessionDep,
    principal: PackagesWrite,
    package_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
) -> PackageRead:
    package = await service.get(session, principal, package_id)
    package = await service.retire(session, principal, package, if_match)
    set_etag(response, package.version)
    return service.to_read(package)
