"""Institutions: the service layer (flushes, never commits)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, Row, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from libs.common import audit, clock, divisions, geo
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import Forbidden, validation_field_errors
from libs.common.identifiers import licence_warnings, uscc_warnings
from libs.common.models import AuditRecord
from libs.common.pagination import PageParams, paginate
from libs.common.personal_data import PersonalDataCipher, mask_phone
from libs.common.response_cache import HEAD_COLUMN
from libs.common.row_pages import Derivation, RowShape, paginate_rows
from libs.common.scope import can_see, ensure_in_scope_for_write, region_condition, visible_condition
from services.registry.institutions import history_rules, name_search
from services.registry.institutions.errors import (
    FieldNotEditable,
    InstitutionAlreadyInState,
    InstitutionNotFound,
    InvalidInstitution,
    UnknownRegion,
    UsccTaken,
)
from services.registry.institutions.kinds import (
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
    LicenceType,
)
from services.registry.institutions.models import Institution, InstitutionYearStat
from services.registry.institutions.schemas import (
    INSTITUTION_LOCKED_FIELDS,
    WRITABLE_FIELDS,
    InstitutionCreate,
    InstitutionRead,
    InstitutionUpdate,
    YearStatWrite,
)

ENTITY = "institution"
PERSONAL_FIELDS = ("contact_phone",)


# ------------------------------------------------------------------------------------------ reading


def to_read(
    institution: Institution,
    cipher: PersonalDataCipher,
    *,
    disclose: bool,
    warnings: Sequence[str] = (),
) -> InstitutionRead:
    """The wire form; the contact phone is whole only when ``disclose`` (the caller's own institution)."""
    read = InstitutionRead.model_validate(institution)
    phone = cipher.decrypt(institution.contact_phone_enc)
    read.contact_phone = phone if disclose else mask_phone(phone)
    read.warnings = list(warnings)
    return read


def discloses_to(principal: Principal, institution: Institution) -> bool:
    """Whole personal data goes only to the institution's own users."""
    return principal.is_institution_user and principal.institution_id == institution.id


async def get(session: AsyncSession, principal: Principal, institution_id: uuid.UUID) -> Institution:
    """The institution if the principal may see it; otherwise 404 (existence is not revealed)."""
    institution = await session.get(Institution, institution_id)
    if institution is None or not can_see(
        principal, region_code=institution.region_code, institution_ids=[institution.id]
    ):
        raise InstitutionNotFound()
    return institution


@dataclass(frozen=True, slots=True)
class InstitutionFilter:
    kinds: Sequence[InstitutionKind] = ()
    categories: Sequence[Category] = ()
    region_code: str | None = None
    q: str | None = None
    active: bool | None = None
    operating_since_from: date | None = None
    operating_since_to: date | None = None
    flags: dict[str, bool] | None = None
    bed_ranges: dict[str, tuple[int | None, int | None]] | None = None


def region_filter(
    region_code: str, column: InstrumentedAttribute[str] = Institution.region_code
) -> ColumnElement[bool]:
    """Rows in a province/city/county (平潭 is its own city-level unit); 422 for an unknown code."""
    try:
        scope = divisions.RegionScope.for_region(region_code)
    except ValueError:
        raise UnknownRegion() from None
    return region_condition(scope.prefix, scope.excluded, column)


def filter_conditions(principal: Principal, filters: InstitutionFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        visible_condition(principal, Institution.region_code, Institution.id)
    ]
    if filters.kinds:
        conditions.append(Institution.kind.in_(list(filters.kinds)))
    if filters.categories:
        conditions.append(Institution.category.in_(list(filters.categories)))
    if filters.region_code:
        conditions.append(region_filter(filters.region_code))
    if filters.q:
        conditions.append(name_search.name_condition(filters.q))
    if filters.active is not None:
        conditions.append(Institution.active.is_(filters.active))
    if filters.operating_since_from is not None:
        conditions.append(Institution.operating_since >= filters.operating_since_from)
    if filters.operating_since_to is not None:
        conditions.append(Institution.operating_since <= filters.operating_since_to)
    for name, value in (filters.flags or {}).items():
        conditions.append(getattr(Institution, name).is_(value))
    for name, (low, high) in (filters.bed_ranges or {}).items():
        column = getattr(Institution, name)
        if low is not None:
            conditions.append(column >= low)
        if high is not None:
            conditions.append(column <= high)
    return conditions


LIST_ORDER = (Institution.region_code, Institution.name, Institution.id)


async def list_(
    session: AsyncSession, principal: Principal, *, params: PageParams, filters: InstitutionFilter
) -> tuple[list[Institution], str | None]:
    stmt = select(Institution).where(*filter_conditions(principal, filters))
    return await paginate(session, stmt, order_by=list(LIST_ORDER), params=params)


def _label(labels: dict[Any, str], key: str) -> Derivation[PersonalDataCipher]:
    def derive(item: dict[str, Any], _: PersonalDataCipher) -> str | None:
        value = item[key]
        return labels[value] if value else None

    return derive


def _masked_phone(item: dict[str, Any], cipher: PersonalDataCipher) -> str | None:
    blob: bytes | None = item["contact_phone_enc"]
    return mask_phone(cipher.decrypt(blob))


def _region_name(item: dict[str, Any], _: PersonalDataCipher) -> str | None:
    division = divisions.get(item["region_code"])
    return division.name if division else None


#: one institution of the list, from its table row (the same JSON as ``to_read(..., disclose=False)``: a
#: test compares them); ``InstitutionRead``'s computed fields and old names are derived here in one place.
#: The whole table is selected: SQLAlchemy keys its statement cache by the table, where a select of ~60
#: named columns made it walk them all on every request (~0.2 ms, more than the enum cells' conversion)
LIST_SHAPE: RowShape[PersonalDataCipher] = RowShape(
    InstitutionRead,
    Institution.__table__,
    {
        "lat": lambda item, _: item["latitude"],
        "lng": lambda item, _: item["longitude"],
        "contact_phone": _masked_phone,
        "warnings": lambda item, _: [],
        "kind_label": lambda item, _: KIND_LABELS[item["kind"]],
        "category_label": lambda item, _: CATEGORY_LABELS[item["category"]],
        "hospital_grade_label": _label(HOSPITAL_GRADE_LABELS, "hospital_grade"),
        "hospital_type_label": _label(HOSPITAL_TYPE_LABELS, "hospital_type"),
        "elderly_care_ownership_label": _label(ELDERLY_CARE_OWNERSHIP_LABELS, "elderly_care_ownership"),
        "integrated_model_label": _label(INTEGRATED_MODEL_LABELS, "integrated_model"),
        "ownership_label": _label(OWNERSHIP_LABELS, "ownership"),
        "licence_type_label": _label(LICENCE_TYPE_LABELS, "licence_type"),
        "ws218_kind_label": lambda item, _: (
            WS218_KIND_CODES.get(item["ws218_kind_code"]) if item["ws218_kind_code"] else None
        ),
        "region_name": _region_name,
        "disabled_residents": lambda item, _: (
            item["disabled_level_1"]
            + item["disabled_level_2"]
            + item["disabled_level_3"]
            + item["disabled_level_4"]
        ),
        "beds_total": lambda item, _: item["beds_elderly_care"] + item["beds_medical"],
    },
)


#: built once: constructing the select costs more than the rest of the statement
_LIST_SELECT = LIST_SHAPE.select()
#: the list's: the feed head beside the rows (the page's version, one statement: response_cache.py)
_LIST_PAGE_SELECT = LIST_SHAPE.select(HEAD_COLUMN)


async def list_rows(
    session: AsyncSession, principal: Principal, *, params: PageParams, filters: InstitutionFilter
) -> tuple[Sequence[Row[Any]], str | None]:
    """The list's page as rows of :data:`LIST_SHAPE`'s columns, then the change feed's head (the
    version of the rows, ``response_cache.head_of``): the list endpoint's path."""
    stmt = _LIST_PAGE_SELECT.where(*filter_conditions(principal, filters))
    return await paginate_rows(session, stmt, order_by=list(LIST_ORDER), params=params)


async def nearby_rows(
    session: AsyncSession,
    principal: Principal,
    *,
    latitude: float,
    longitude: float,
    radius_km: float,
    kinds: Sequence[InstitutionKind] = (),
    categories: Sequence[Category] = (),
    limit: int = 20,
) -> list[tuple[Row[Any], float]]:
    """:func:`nearby` as rows of :data:`LIST_SHAPE` (the endpoint's path): the candidates in the box are
    read as (id, latitude, longitude) only, and whole rows for the nearest ``limit`` — a box around a
    city holds thousands of institutions at province scale, of which a page shows 20."""
    box = geo.bounding_box(latitude, longitude, radius_km * 1000)
    stmt = select(Institution.id, Institution.latitude, Institution.longitude).where(
        Institution.latitude.between(box.min_latitude, box.max_latitude),
        Institution.longitude.between(box.min_longitude, box.max_longitude),
        Institution.active.is_(True),
        visible_condition(principal, Institution.region_code, Institution.id),
    )
    if kinds:
        stmt = stmt.where(Institution.kind.in_(list(kinds)))
    if categories:
        stmt = stmt.where(Institution.category.in_(list(categories)))
    scored = []
    for institution_id, lat, lng in (await session.execute(stmt)).all():
        distance = geo.distance_km(latitude, longitude, lat or 0.0, lng or 0.0)
        if distance <= radius_km:
            scored.append((round(distance, 3), str(institution_id), institution_id))
    scored.sort(key=lambda entry: (entry[0], entry[1]))
    nearest = scored[:limit]
    if not nearest:
        return []
    ids = [institution_id for _, _, institution_id in nearest]
    rows = {row.id: row for row in (await session.execute(_LIST_SELECT.where(Institution.id.in_(ids)))).all()}
    return [(rows[institution_id], distance) for distance, _, institution_id in nearest]


async def nearby(
    session: AsyncSession,
    principal: Principal,
    *,
    latitude: float,
    longitude: float,
    radius_km: float,
    kinds: Sequence[InstitutionKind] = (),
    categories: Sequence[Category] = (),
    limit: int = 20,
) -> list[tuple[Institution, float]]:
    """Active institutions within ``radius_km``, nearest first.

    A bounding box (served by the ``ix_institution_nearby`` index) selects candidates in SQL; the exact
    great-circle (haversine) distance is computed on the survivors only. Works on SQLite and PostgreSQL
    alike.
    """
    box = geo.bounding_box(latitude, longitude, radius_km * 1000)
    stmt = select(Institution).where(
        Institution.latitude.between(box.min_latitude, box.max_latitude),
        Institution.longitude.between(box.min_longitude, box.max_longitude),
        Institution.active.is_(True),
        visible_condition(principal, Institution.region_code, Institution.id),
    )
    if kinds:
        stmt = stmt.where(Institution.kind.in_(list(kinds)))
    if categories:
        stmt = stmt.where(Institution.category.in_(list(categories)))
    candidates = (await session.scalars(stmt)).all()
    scored = []
    for institution in candidates:
        distance = geo.distance_km(
            latitude, longitude, institution.latitude or 0.0, institution.longitude or 0.0
        )
        if distance <= radius_km:
            scored.append((institution, round(distance, 3)))
    scored.sort(key=lambda pair: (pair[1], str(pair[0].id)))
    return scored[:limit]


async def history(
    session: AsyncSession, principal: Principal, institution_id: uuid.UUID, *, params: PageParams
) -> tuple[list[AuditRecord], str | None]:
    """The institution's change history from the audit trail (who, when, which fields), oldest first."""
    await get(session, principal, institution_id)
    stmt = select(AuditRecord).where(
        AuditRecord.entity_type == ENTITY, AuditRecord.entity_id == str(institution_id)
    )
    return await paginate(
        session,
        stmt,
        order_by=[AuditRecord.occurred_at, AuditRecord.id],
        params=params,
    )


# ------------------------------------------------------------------------------------------ writing


def warnings_for(data: InstitutionCreate) -> list[str]:
    """Non-blocking findings: licence shape and kind-code mismatch, USCC department/region."""
    warnings: list[str] = []
    if data.uscc:
        warnings.extend(uscc_warnings(data.uscc))
    if data.ws218_kind_code and data.ws218_kind_code not in WS218_KIND_CODES:
        warnings.append(
            f"机构类别代码 {data.ws218_kind_code} 不在本平台常用的 WS 218 代码之列，请核实"
            "（unusual kind code）"
        )
    if data.licence_type == LicenceType.practice_licence and data.licence_no:
        warnings.extend(licence_warnings(data.licence_no, data.ws218_kind_code))
    if data.kind != InstitutionKind.elderly_care and data.ws218_kind_code is None:
        warnings.append("医疗机构、医养结合机构宜填写 WS 218 机构类别代码（kind code missing）")
    return warnings


def _column_values(data: InstitutionCreate, cipher: PersonalDataCipher) -> dict[str, Any]:
    values = data.model_dump(exclude={"contact_phone"})
    values["contact_phone_enc"] = cipher.encrypt(data.contact_phone)
    return values


def default_has_medical_unit(kind: InstitutionKind) -> bool:
    return kind != InstitutionKind.elderly_care


# The rules of a write, shared by the single-record endpoints and the bulk paths (bulk.py,
# spreadsheet_import.py): each raises the DomainError the single endpoint answers with.


def check_create(principal: Principal, data: InstitutionCreate) -> None:
    """May ``principal`` register ``data`` (its county in the caller's region)?"""
    ensure_in_scope_for_write(principal, region_code=data.region_code, what="行政区划")


def check_uscc_owner(owner_id: uuid.UUID | None, *, except_id: uuid.UUID | None = None) -> None:
    """A USCC registered to another institution (``owner_id``) than the one written is taken."""
    if owner_id is not None and owner_id != except_id:
        raise UsccTaken()


def merged_update(
    principal: Principal, before: dict[str, Any], patch: dict[str, Any], changed: Iterable[str]
) -> InstitutionCreate:
    """The whole institution after ``patch``: valid as a new one, and in the caller's region."""
    try:
        merged = InstitutionCreate.model_validate({**before, **patch})
    except ValidationError as exc:
        raise InvalidInstitution(
            "修改后的机构信息不完整或不一致（invalid institution after update）",
            errors=validation_field_errors(exc.errors()),
        ) from None
    if "region_code" in changed:
        ensure_in_scope_for_write(principal, region_code=merged.region_code, what="行政区划")
    return merged


async def uscc_owner(session: AsyncSession, uscc: str | None) -> uuid.UUID | None:
    if uscc is None:
        return None
    owner: uuid.UUID | None = await session.scalar(select(Institution.id).where(Institution.uscc == uscc))
    return owner


async def ensure_uscc_free(
    session: AsyncSession, uscc: str | None, *, except_id: uuid.UUID | None = None
) -> None:
    check_uscc_owner(await uscc_owner(session, uscc), except_id=except_id)


async def create(
    session: AsyncSession, principal: Principal, data: InstitutionCreate, *, cipher: PersonalDataCipher
) -> tuple[Institution, list[str]]:
    check_create(principal, data)
    await ensure_uscc_free(session, data.uscc)
    institution = Institution(
        **_column_values(data, cipher), has_medical_unit=default_has_medical_unit(data.kind), active=True
    )
    session.add(institution)
    await session.flush()
    audit.record(
        session,
        principal,
        action="institution.create",
        entity_type=ENTITY,
        entity_id=institution.id,
        changes=data.model_dump(exclude_none=True),
        personal_fields=PERSONAL_FIELDS,
    )
    return institution, warnings_for(data)


def current_fields(institution: Institution, cipher: PersonalDataCipher) -> dict[str, Any]:
    """The institution's writable fields as a dict shaped like :class:`InstitutionCreate`."""
    values = {name: getattr(institution, name) for name in WRITABLE_FIELDS if name != "contact_phone"}
    values["contact_phone"] = cipher.decrypt(institution.contact_phone_enc)
    return values


def check_may_edit(
    principal: Principal, *, institution_id: uuid.UUID, region_code: str, changed: Iterable[str]
) -> None:
    """May ``principal`` change the ``changed`` fields of the institution (its own, or in its region)?"""
    if principal.is_institution_user:
        if principal.institution_id != institution_id:
            raise Forbidden("只能修改本机构的信息", code="out_of_scope")
        locked = sorted(set(changed) & INSTITUTION_LOCKED_FIELDS)
        if locked:
            raise FieldNotEditable(locked)
    else:
        ensure_in_scope_for_write(principal, region_code=region_code, what="机构")


async def update(
    session: AsyncSession,
    principal: Principal,
    institution_id: uuid.UUID,
    data: InstitutionUpdate,
    *,
    if_match: str | None,
    cipher: PersonalDataCipher,
) -> tuple[Institution, list[str]]:
    institution = await get(session, principal, institution_id)
    patch = data.model_dump(exclude_unset=True)
    before = current_fields(institution, cipher)
    changed = {key: value for key, value in patch.items() if before.get(key) != value}
    check_may_edit(
        principal, institution_id=institution.id, region_code=institution.region_code, changed=changed
    )
    check_if_match(if_match, institution.version)
    merged = merged_update(principal, before, patch, changed)
    if "uscc" in changed:
        await ensure_uscc_free(session, merged.uscc, except_id=institution.id)
    if not changed:
        return institution, warnings_for(merged)
    for key, value in _column_values(merged, cipher).items():
        if key == "contact_phone_enc":
            if "contact_phone" in changed:
                institution.contact_phone_enc = value
        elif key in changed:
            setattr(institution, key, value)
    if institution.elderly_friendly is not merged.elderly_friendly:  # derived from the year
        institution.elderly_friendly = merged.elderly_friendly
    if "kind" in changed:
        institution.has_medical_unit = await medical_unit_present(session, institution)
    if "region_code" in changed:
        await move_year_stats(session, {institution.id: institution.region_code})
    await session.flush()
    audit.record(
        session,
        principal,
        action="institution.update",
        entity_type=ENTITY,
        entity_id=institution.id,
        changes=audit.diff(before, {key: merged.model_dump()[key] for key in changed}),
        personal_fields=PERSONAL_FIELDS,
    )
    return institution, warnings_for(merged)


async def set_active(
    session: AsyncSession,
    principal: Principal,
    institution_id: uuid.UUID,
    *,
    active: bool,
    reason: str | None,
    if_match: str | None,
) -> Institution:
    """Deactivate (never delete) or reactivate an institution."""
    institution = await get(session, principal, institution_id)
    ensure_in_scope_for_write(principal, region_code=institution.region_code, what="机构")
    check_if_match(if_match, institution.version)
    if institution.active is active:
        raise InstitutionAlreadyInState("机构已处于启用状态" if active else "机构已停用")
    institution.active = active
    await session.flush()
    audit.record(
        session,
        principal,
        action="institution.reactivate" if active else "institution.deactivate",
        entity_type=ENTITY,
        entity_id=institution.id,
        changes={"active": [not active, active], "reason": reason},
    )
    return institution


async def medical_unit_present(session: AsyncSession, institution: Institution) -> bool:
    """True for medical and integrated institutions, and for an elderly-care one with an accepted filing."""
    if default_has_medical_unit(institution.kind):
        return True
    from services.registry.filings.models import Filing, FilingState

    accepted = exists().where(Filing.institution_id == institution.id, Filing.state == FilingState.accepted)
    return bool(await session.scalar(select(accepted)))


async def refresh_has_medical_unit(
    session: AsyncSession, principal: Principal, institution: Institution
) -> None:
    """Recompute ``has_medical_unit`` after a filing changed state; audited when it changes."""
    value = await medical_unit_present(session, institution)
    if institution.has_medical_unit is value:
        return
    institution.has_medical_unit = value
    await session.flush()
    audit.record(
        session,
        principal,
        action="institution.medical_unit",
        entity_type=ENTITY,
        entity_id=institution.id,
        changes={"has_medical_unit": [not value, value]},
    )


# -------------------------------------------------------------------------------------- year stats


async def move_year_stats(session: AsyncSession, regions: dict[uuid.UUID, str]) -> None:
    """The year figures follow their institution to its new county (their feed scope; ORM writes, so a
    move leaves a tombstone in the old county's feed)."""
    if not regions:
        return
    stmt = select(InstitutionYearStat).where(InstitutionYearStat.institution_id.in_(list(regions)))
    for row in (await session.scalars(stmt)).all():
        row.region_code = regions[row.institution_id]
    await session.flush()


async def year_stats(
    session: AsyncSession, institution_id: uuid.UUID, years: Iterable[int]
) -> list[InstitutionYearStat]:
    """The institution's yearly figures for ``years`` (those present), oldest first.

    For other modules of the registry (the 示范 hard criteria): no scope check here, the caller has one.
    """
    wanted = sorted(set(years))
    if not wanted:
        return []
    stmt = (
        select(InstitutionYearStat)
        .where(InstitutionYearStat.institution_id == institution_id, InstitutionYearStat.year.in_(wanted))
        .order_by(InstitutionYearStat.year)
    )
    return list((await session.scalars(stmt)).all())


async def list_year_stats(
    session: AsyncSession,
    principal: Principal,
    institution_id: uuid.UUID,
    *,
    year_from: int | None,
    year_to: int | None,
) -> list[InstitutionYearStat]:
    await get(session, principal, institution_id)
    stmt = select(InstitutionYearStat).where(InstitutionYearStat.institution_id == institution_id)
    if year_from is not None:
        stmt = stmt.where(InstitutionYearStat.year >= year_from)
    if year_to is not None:
        stmt = stmt.where(InstitutionYearStat.year <= year_to)
    return list((await session.scalars(stmt.order_by(InstitutionYearStat.year))).all())


async def put_year_stat(
    session: AsyncSession,
    principal: Principal,
    institution_id: uuid.UUID,
    year: int,
    data: YearStatWrite,
    *,
    if_match: str | None,
) -> tuple[InstitutionYearStat, bool]:
    """Create or replace one year's figures (replacing needs If-Match). Returns (row, created)."""
    institution = await get(session, principal, institution_id)
    check_may_edit(principal, institution_id=institution.id, region_code=institution.region_code, changed=())
    history_rules.check_year_reportable(institution, year, clock.today_in_china())
    existing = await session.scalar(
        select(InstitutionYearStat).where(
            InstitutionYearStat.institution_id == institution_id, InstitutionYearStat.year == year
        )
    )
    values = data.model_dump()
    if existing is None:
        row = InstitutionYearStat(
            institution_id=institution_id, region_code=institution.region_code, year=year, **values
        )
        session.add(row)
        await session.flush()
        before: dict[str, Any] = {}
        created = True
    else:
        check_if_match(if_match, existing.version)
        before = {key: getattr(existing, key) for key in values}
        for key, value in values.items():
            setattr(existing, key, value)
        row = existing
        await session.flush()
        created = False
    audit.record(
        session,
        principal,
        action="institution.year_stat",
        entity_type=ENTITY,
        entity_id=institution_id,
        changes={"year": year, **audit.diff(before, values)},
    )
    return row, created
