"""签约服务包: published by a primary-care institution's user, revised into numbered versions (the revised
one retired), retired; a contract takes the versions in use when it is signed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.residents.clients.registry import InstitutionInfo
from services.residents.packages import errors
from services.residents.packages.models import ServicePackage
from services.residents.packages.rules import PackageKind, PackageStatus, contract_package_gaps
from services.residents.packages.schemas import PackageContent, PackageCreate, PackageRead, PackageRevise
from services.residents.teams.service import check_institution, institution_of

ENTITY = "service_package"
CENT = Decimal("0.01")


def _check_items(data: PackageContent) -> None:
    codes = [item.code for item in data.items]
    if len(set(codes)) != len(codes):
        raise errors.DuplicateItem()


async def _flush_guarding_code(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent publication of the same code won
        raise errors.PackageCodeExists() from exc


async def create(
    session: AsyncSession, principal: Principal, data: PackageCreate, institution: InstitutionInfo | None
) -> ServicePackage:
    institution_id = institution_of(principal)
    info = check_institution(institution)
    _check_items(data)
    existing = await session.scalar(
        select(ServicePackage.id).where(
            ServicePackage.institution_id == institution_id, ServicePackage.code == data.code
        )
    )
    if existing is not None:
        raise errors.PackageCodeExists()
    package = ServicePackage(
        institution_id=institution_id,
        institution_name=info.name,
        region_code=info.region_code,
        code=data.code,
        version_no=1,
        kind=data.kind,
        status=PackageStatus.active,
        **_content(data),
    )
    session.add(package)
    await _flush_guarding_code(session)
    audit.record(
        session,
        principal,
        action="service_package.create",
        entity_type=ENTITY,
        entity_id=package.id,
        changes={"code": package.code, "kind": package.kind.value, "fee_yuan": package.fee_yuan},
    )
    return package


def _content(data: PackageContent) -> dict[str, object]:
    return {
        "name": data.name,
        "fee_yuan": data.fee_yuan.quantize(CENT),  # as stored (and read back): two places
        "items": [item.model_dump() for item in data.items],
    }


async def get(session: AsyncSession, principal: Principal, package_id: uuid.UUID) -> ServicePackage:
    package = await session.scalar(
        select(ServicePackage).where(
            ServicePackage.id == package_id,
            visible_condition(principal, ServicePackage.region_code, ServicePackage.institution_id),
        )
    )
    if package is None:
        raise errors.PackageNotFound()
    return package


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    institution_id: uuid.UUID | None,
    kind: PackageKind | None,
    status: PackageStatus | None,
    code: str | None,
) -> tuple[list[ServicePackage], str | None]:
    stmt = select(ServicePackage).where(
        visible_condition(principal, ServicePackage.region_code, ServicePackage.institution_id)
    )
    if institution_id is not None:
        stmt = stmt.where(ServicePackage.institution_id == institution_id)
    if kind is not None:
        stmt = stmt.where(ServicePackage.kind == kind)
    if status is not None:
        stmt = stmt.where(ServicePackage.status == status)
    if code is not None:
        stmt = stmt.where(ServicePackage.code == code)
    return await paginate(session, stmt, order_by=[ServicePackage.id], params=params)


def _ensure_active(package: ServicePackage) -> None:
    if package.status is not PackageStatus.active:
        raise errors.PackageRetired()


async def revise(
    session: AsyncSession,
    principal: Principal,
    package: ServicePackage,
    data: PackageRevise,
    if_match: str | None,
) -> ServicePackage:
    """Publish version n+1 of the package and retire version n, in one transaction."""
    check_if_match(if_match, package.version)
    _ensure_active(package)
    _check_items(data)
    package.status = PackageStatus.retired
    await session.flush()  # the retired version leaves the one-active-per-code index first
    revised = ServicePackage(
        institution_id=package.institution_id,
        institution_name=package.institution_name,
        region_code=package.region_code,
        code=package.code,
        version_no=package.version_no + 1,
        kind=package.kind,
        status=PackageStatus.active,
        **_content(data),
    )
    session.add(revised)
    await _flush_guarding_code(session)
    audit.record(
        session,
        principal,
        action="service_package.revise",
        entity_type=ENTITY,
        entity_id=revised.id,
        changes={"code": revised.code, "version_no": revised.version_no, "previous_id": str(package.id)},
    )
    return revised


async def retire(
    session: AsyncSession, principal: Principal, package: ServicePackage, if_match: str | None
) -> ServicePackage:
    check_if_match(if_match, package.version)
    _ensure_active(package)
    package.status = PackageStatus.retired
    await session.flush()
    audit.record(
        session,
        principal,
        action="service_package.retire",
        entity_type=ENTITY,
        entity_id=package.id,
        changes={"status": package.status.value},
    )
    return package


async def for_contract(
    session: AsyncSession, institution_id: uuid.UUID, package_ids: Sequence[uuid.UUID]
) -> list[ServicePackage]:
    """The packages a contract with a team of ``institution_id`` names: in use, of that institution, one
    basic and personalised ones each at most once (422 ``packages_invalid`` with the gaps)."""
    if len(set(package_ids)) != len(package_ids):
        raise errors.PackagesInvalid(["同一服务包不能重复选择"])
    rows = list(await session.scalars(select(ServicePackage).where(ServicePackage.id.in_(list(package_ids)))))
    by_id = {p.id: p for p in rows}
    gaps = []
    usable = []
    for package_id in package_ids:
        package = by_id.get(package_id)
        if package is None or package.institution_id != institution_id:
            gaps.append(f"服务包 {package_id} 不是签约团队所在机构的服务包")
        elif package.status is not PackageStatus.active:
            gaps.append(f"服务包「{package.name}」第 {package.version_no} 版已停用")
        else:
            usable.append(package)
    if not gaps:
        gaps = contract_package_gaps([p.kind for p in usable], [p.code for p in usable])
    if gaps:
        raise errors.PackagesInvalid(gaps)
    return usable


async def current_versions(
    session: AsyncSession, institution_id: uuid.UUID, codes: Sequence[str]
) -> list[ServicePackage]:
    """The versions in use of these codes at the institution (a renewal keeps the packages it had, in
    their current version); a code no longer in use is left out (then the renewal names its packages)."""
    rows = await session.scalars(
        select(ServicePackage).where(
            ServicePackage.institution_id == institution_id,
            ServicePackage.code.in_(list(codes)),
            ServicePackage.status == PackageStatus.active,
        )
    )
    return list(rows)


def to_read(package: ServicePackage) -> PackageRead:
    return PackageRead.model_validate(package)
