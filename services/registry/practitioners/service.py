"""Practitioners: the service layer. ID numbers and phones are encrypted, with a blind index for the
ID number; responses mask them except to the practitioner's own institution admin and the practitioner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import Unprocessable
from libs.common.pagination import PageParams, paginate
from libs.common.personal_data import PersonalDataCipher, mask_id_card, mask_phone
from libs.common.scope import can_see, ensure_in_scope_for_write, visible_condition
from services.registry.institutions import service as institutions
from services.registry.institutions.models import Institution
from services.registry.practitioners.errors import (
    InstitutionInactive,
    PractitionerAlreadyInState,
    PractitionerNotFound,
)
from services.registry.practitioners.models import (
    TITLE_LABELS,
    TITLE_LADDERS,
    Practitioner,
    PractitionerKind,
    Title,
)
from services.registry.practitioners.schemas import (
    PractitionerCreate,
    PractitionerRead,
    PractitionerUpdate,
    _check_title,
)
from services.registry.settings import RegistrySettings

ENTITY = "practitioner"
PERSONAL_FIELDS = ("id_number", "phone")


@dataclass(frozen=True, slots=True)
class EligibilityRule:
    """互联网+护理服务 nurses: registered, ≥ N years of clinical nursing, title ≥ 护师, no misconduct."""

    min_years: int
    titles: frozenset[Title]

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> EligibilityRule:
        ladder = TITLE_LADDERS[PractitionerKind.nurse]
        by_label = {TITLE_LABELS[t]: i for i, t in enumerate(ladder)}
        if settings.homecare_nurse_min_title not in by_label:
            raise ValueError(f"homecare_nurse_min_title must be one of {sorted(by_label)}")
        return cls(
            settings.homecare_nurse_min_years,
            frozenset(ladder[by_label[settings.homecare_nurse_min_title] :]),
        )

    def applies(self, p: Practitioner) -> bool:
        return (
            p.active
            and p.kind == PractitionerKind.nurse
            and p.title in self.titles
            and p.clinical_years >= self.min_years
            and not p.misconduct_recorded
            and bool(p.practice_certificate_no)
        )

    def condition(self, eligible: bool) -> ColumnElement[bool]:
        rule = and_(
            Practitioner.active.is_(True),
            Practitioner.kind == PractitionerKind.nurse,
            Practitioner.title.in_(sorted(self.titles)),
            Practitioner.clinical_years >= self.min_years,
            Practitioner.misconduct_recorded.is_(False),
            Practitioner.practice_certificate_no.is_not(None),
        )
        return rule if eligible else ~rule


def discloses_to(principal: Principal, practitioner: Practitioner) -> bool:
    """Whole ID number and phone: the practitioner's own institution admin, and the practitioner."""
    if principal.practitioner_id is not None and principal.practitioner_id == practitioner.id:
        return True
    return (
        principal.role is Role.institution_admin and principal.institution_id == practitioner.institution_id
    )


def to_read(
    p: Practitioner, cipher: PersonalDataCipher, rule: EligibilityRule, *, disclose: bool
) -> PractitionerRead:
    read = PractitionerRead.model_validate(p)
    id_number = cipher.decrypt(p.id_number_enc)
    phone = cipher.decrypt(p.phone_enc)
    read.id_number = id_number if disclose else mask_id_card(id_number)
    read.phone = phone if disclose else mask_phone(phone)
    read.homecare_eligible = rule.applies(p)
    return read


async def get(session: AsyncSession, principal: Principal, practitioner_id: uuid.UUID) -> Practitioner:
    practitioner = await session.get(Practitioner, practitioner_id)
    if practitioner is None or not can_see(
        principal, region_code=practitioner.region_code, institution_ids=[practitioner.institution_id]
    ):
        raise PractitionerNotFound()
    return practitioner


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    rule: EligibilityRule,
    institution_id: uuid.UUID | None = None,
    kind: PractitionerKind | None = None,
    title: Title | None = None,
    homecare_eligible: bool | None = None,
    active: bool | None = None,
    region_code: str | None = None,
) -> tuple[list[Practitioner], str | None]:
    stmt = select(Practitioner).where(
        visible_condition(principal, Practitioner.region_code, Practitioner.institution_id)
    )
    if institution_id is not None:
        stmt = stmt.where(Practitioner.institution_id == institution_id)
    if kind is not None:
        stmt = stmt.where(Practitioner.kind == kind)
    if title is not None:
        stmt = stmt.where(Practitioner.title == title)
    if homecare_eligible is not None:
        stmt = stmt.where(rule.condition(homecare_eligible))
    if active is not None:
        stmt = stmt.where(Practitioner.active.is_(active))
    if region_code is not None:
        stmt = stmt.where(institutions.region_filter(region_code, Practitioner.region_code))
    return await paginate(session, stmt, order_by=[Practitioner.id], params=params)


async def lookup_by_id_number(
    session: AsyncSession, principal: Principal, id_number: str, *, cipher: PersonalDataCipher
) -> list[Practitioner]:
    """Exact lookup through the blind index, within the caller's scope."""
    stmt = (
        select(Practitioner)
        .where(
            Practitioner.id_number_hash == cipher.lookup_hash(id_number, "id_card"),
            visible_condition(principal, Practitioner.region_code, Practitioner.institution_id),
        )
        .order_by(Practitioner.id)
        .limit(50)
    )
    return list((await session.scalars(stmt)).all())


def personal_columns(values: dict[str, Any], cipher: PersonalDataCipher) -> dict[str, Any]:
    columns: dict[str, Any] = {}
    if "id_number" in values:
        id_number = values["id_number"]
        columns["id_number_enc"] = cipher.encrypt(id_number)
        columns["id_number_hash"] = cipher.lookup_hash(id_number, "id_card") if id_number else None
    if "phone" in values:
        columns["phone_enc"] = cipher.encrypt(values["phone"])
    return columns


def check_institution(principal: Principal, institution: Institution) -> None:
    """A practitioner is recorded under an institution in the caller's scope (its own, for an
    institution's admin) that is active — the rule of ``create`` and of the bulk."""
    ensure_in_scope_for_write(
        principal, region_code=institution.region_code, institution_ids=[institution.id], what="机构"
    )
    if not institution.active:
        raise InstitutionInactive()


def column_values(data: PractitionerCreate, cipher: PersonalDataCipher) -> dict[str, Any]:
    """The columns of a new practitioner from the body of ``create`` (personal data encrypted, the ID
    number with its blind index)."""
    values = data.model_dump(mode="json", exclude={"id_number", "phone", "institution_id"})
    return {**values, **personal_columns({"id_number": data.id_number, "phone": data.phone}, cipher)}


async def create(
    session: AsyncSession, principal: Principal, data: PractitionerCreate, *, cipher: PersonalDataCipher
) -> Practitioner:
    institution = await institutions.get(session, principal, data.institution_id)
    check_institution(principal, institution)
    practitioner = Practitioner(
        institution_id=institution.id,
        region_code=institution.region_code,
        active=True,
        **column_values(data, cipher),
    )
    session.add(practitioner)
    await session.flush()
    audit.record(
        session,
        principal,
        action="practitioner.create",
        entity_type=ENTITY,
        entity_id=practitioner.id,
        changes=data.model_dump(exclude_none=True),
        personal_fields=PERSONAL_FIELDS,
    )
    return practitioner


async def update(
    session: AsyncSession,
    principal: Principal,
    practitioner_id: uuid.UUID,
    data: PractitionerUpdate,
    *,
    if_match: str | None,
    cipher: PersonalDataCipher,
) -> Practitioner:
    practitioner = await get(session, principal, practitioner_id)
    ensure_in_scope_for_write(
        principal,
        region_code=practitioner.region_code,
        institution_ids=[practitioner.institution_id],
        what="执业人员",
    )
    check_if_match(if_match, practitioner.version)
    patch = data.model_dump(exclude_unset=True)
    if "trainings" in patch:
        patch["trainings"] = data.model_dump(mode="json", include={"trainings"})["trainings"]
    try:
        _check_title(patch.get("kind", practitioner.kind), patch.get("title", practitioner.title))
    except ValueError as exc:
        raise Unprocessable(str(exc), code="title_does_not_fit_kind") from None
    before = {key: getattr(practitioner, key) for key in patch if key not in PERSONAL_FIELDS}
    for key, value in patch.items():
        if key not in PERSONAL_FIELDS:
            setattr(practitioner, key, value)
    for key, value in personal_columns(patch, cipher).items():
        setattr(practitioner, key, value)
    await session.flush()
    changes = audit.diff(before, {k: v for k, v in patch.items() if k not in PERSONAL_FIELDS})
    changes.update({key: ["***", "***"] for key in PERSONAL_FIELDS if key in patch})
    audit.record(
        session,
        principal,
        action="practitioner.update",
        entity_type=ENTITY,
        entity_id=practitioner.id,
        changes=changes,
    )
    return practitioner


async def set_active(
    session: AsyncSession,
    principal: Principal,
    practitioner_id: uuid.UUID,
    *,
    active: bool,
    if_match: str | None,
) -> Practitioner:
    practitioner = await get(session, principal, practitioner_id)
    ensure_in_scope_for_write(
        principal,
        region_code=practitioner.region_code,
        institution_ids=[practitioner.institution_id],
        what="执业人员",
    )
    check_if_match(if_match, practitioner.version)
    if practitioner.active is active:
        raise PractitionerAlreadyInState("执业人员已在岗" if active else "执业人员已停用")
    practitioner.active = active
    await session.flush()
    audit.record(
        session,
        principal,
        action="practitioner.reactivate" if active else "practitioner.deactivate",
        entity_type=ENTITY,
        entity_id=practitioner.id,
        changes={"active": [not active, active]},
    )
    return practitioner
