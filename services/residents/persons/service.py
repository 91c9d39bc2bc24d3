"""The person index: one person per 居民身份证号. Personal data goes in encrypted and comes out masked,
except to an institution serving the person, and then audited.

Who sees a person (``visible``):

- officials (province, city, county) and the city platform: persons whose county lies in their region,
  masked;
- an institution user: the persons its institution serves — it registered them, or signed, examined or
  assessed them (``person_institution``, written by :func:`link_institution`) — whole on a detail read,
  each disclosure audited; not the rest of its county (a 村卫生室 has no business browsing the
  township's residents). It finds a person it does not serve yet only by the whole ID number
  (find-or-create), which links it;
- an internal caller: every person (masked).

Who records a person (``find_or_create``):

- an institution user registers a new person living in its institution's county; an existing person
  (any county: people move, and are served where they live now) is linked to the institution;
- a city platform, within its city (an existing person of another city is refused: 403);
- an internal caller (homecare, contracts link their records to the person), anywhere in Fujian.

The ID number identifies: birth date and sex come from it, and an existing person named otherwise is a
409 (the stored name is not revealed). An existing person's contact data is never overwritten by a
find-or-create, but what the person LACKS is filled from the record (:func:`fill_missing`: a phone, an
address): a service's record linked to the person drops its own copy, and a value only it held would
otherwise be lost (a person registered from a referral without an address, then a homecare recipient
with one). One person per ID number is the database's unique blind index;
two concurrent find-or-creates meet there (``INSERT … ON CONFLICT DO NOTHING``) and both answer the one
row.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, exists, func, or_, select
from sqlalchemy import update as update_statement
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common import audit, changes
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.identifiers import id_card_birth_date, id_card_sex
from libs.common.models import utcnow
from libs.common.pagination import PageParams, paginate
from libs.common.personal_data import (
    PersonalDataCipher,
    mask_address,
    mask_id_card,
    mask_name,
    mask_phone,
)
from libs.common.scope import ensure_in_scope_for_write, visible_condition
from services.residents import clock
from services.residents.persons.errors import (
    BirthDateMismatch,
    PersonIdentityMismatch,
    PersonNotFound,
    PersonsBatchTooLarge,
    PersonsNotFound,
    RegionNotAllowed,
    SexMismatch,
    TownshipNotInCounty,
)
from services.residents.persons.models import Person, PersonInstitution, ServingReason, Sex
from services.residents.persons.schemas import PersonCreate, PersonRead, PersonUpdate

PERSONAL_FIELDS = ("name", "id_number", "birth_date", "phone", "address")


def served_by(institution_id: uuid.UUID) -> ColumnElement[bool]:
    """The persons an institution serves (the ``person_institution`` links)."""
    return exists().where(
        PersonInstitution.person_id == Person.id, PersonInstitution.institution_id == institution_id
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting the persons ``principal`` may read (the rules: module docstring)."""
    if principal.is_institution_user:
        if principal.institution_id is None:
            return visible_condition(principal, Person.region_code, Person.institution_id)
        return served_by(principal.institution_id)
    return visible_condition(principal, Person.region_code, Person.institution_id)


async def find_visible(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> Person | None:
    return await session.scalar(select(Person).where(Person.id == person_id, visible(principal)))


async def get(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> Person:
    """The person if ``principal`` may see it, else 404 (existence is not revealed). Other modules load
    the person a signing, check-up or assessment names with this."""
    person = await find_visible(session, principal, person_id)
    if person is None:
        raise PersonNotFound()
    return person


async def batch(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    ids: list[uuid.UUID],
    *,
    id_numbers: Sequence[str] = (),
    limit: int,
) -> list[Person]:
    """The persons ``ids`` (one SELECT), in the order asked; all of them visible to ``principal``, else
    404 naming those it does not know (absent and out of scope alike). Then those of ``id_numbers`` the
    index holds (by blind index, one SELECT; a number it does not hold is not an error: a lookup)."""
    wanted = list(dict.fromkeys(ids))
    digests = set()
    for number in dict.fromkeys(id_numbers):
        try:
            digests.add(cipher.lookup_hash(number, "id_card"))
        except ValueError:
            continue
    if len(wanted) + len(digests) > limit:
        raise PersonsBatchTooLarge(limit)
    found: dict[uuid.UUID, Person] = {}
    if wanted:
        rows = await session.scalars(select(Person).where(Person.id.in_(wanted), visible(principal)))
        found = {p.id: p for p in rows}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise PersonsNotFound(missing)
    by_number: list[Person] = []
    if digests:
        by_number = list(
            await session.scalars(
                select(Person)
                .where(Person.id_number_hash.in_(digests), visible(principal))
                .order_by(Person.id)
            )
        )
    return [found[i] for i in wanted] + [p for p in by_number if p.id not in found]


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    region_code: str | None = None,
    township_code: str | None = None,
) -> tuple[list[Person], str | None]:
    stmt = select(Person).where(visible(principal))
    if region_code is not None:
        stmt = stmt.where(Person.region_code == region_code)
    if township_code is not None:
        stmt = stmt.where(Person.township_code == township_code)
    return await paginate(session, stmt, order_by=[Person.id], params=params)


async def lookup(
    session: AsyncSession, principal: Principal, cipher: PersonalDataCipher, id_number: str
) -> list[Person]:
    """The person with this ID number, if ``principal`` may see it (a list of zero or one)."""
    try:
        digest = cipher.lookup_hash(id_number, "id_card")
    except ValueError:
        return []
    person = await session.scalar(select(Person).where(Person.id_number_hash == digest, visible(principal)))
    return [person] if person is not None else []


def _normalised_name(name: str) -> str:
    return "".join(name.split()).casefold()


def derived(data: PersonCreate) -> tuple[Any, Sex]:
    birth = id_card_birth_date(data.id_number)
    if data.birth_date is not None and data.birth_date != birth:
        raise BirthDateMismatch()
    sex = Sex(id_card_sex(data.id_number))
    if data.sex is not None and data.sex != sex:
        raise SexMismatch()
    return birth, sex


def ensure_may_register(principal: Principal, region_code: str) -> None:
    """Where ``principal`` may record a NEW person (the rules: module docstring)."""
    if principal.is_institution_user:
        if region_code != principal.region_code:
            raise RegionNotAllowed(
                f"新登记居民的县级区划须为本机构所在县（区）{principal.region_code}",
                code="region_not_institution_county",
            )
        return
    if principal.role is Role.service:
        return
    if not principal.scope.contains(region_code):
        raise RegionNotAllowed("居民所在地不在您的管辖范围内")


def _insert(dialect: str) -> Any:
    return postgresql.insert(Person) if dialect == "postgresql" else sqlite.insert(Person)


async def link_institution(
    session: AsyncSession, person_id: uuid.UUID, institution_id: uuid.UUID, reason: ServingReason
) -> None:
    """Record that ``institution_id`` serves the person (idempotent: the first reason is kept). The
    signing, check-up and assessment writers call it."""
    dialect = session.get_bind().dialect.name
    insert = (
        postgresql.insert(PersonInstitution) if dialect == "postgresql" else sqlite.insert(PersonInstitution)
    )
    await session.execute(
        insert.values(
            id=uuid.uuid4(),
            person_id=person_id,
            institution_id=institution_id,
            reason=reason.value,
            created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["person_id", "institution_id"])
    )


def new_values(
    principal: Principal,
    cipher: PersonalDataCipher,
    data: PersonCreate,
    digest: str,
    birth: Any,
    sex: Sex,
    *,
    source_system: str | None,
    external_id: str | None,
) -> dict[str, Any]:
    """The row of a new person (personal data encrypted: four AES-GCM encryptions)."""
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "region_code": data.region_code,
        "township_code": data.township_code,
        "institution_id": principal.institution_id if principal.is_institution_user else None,
        "name_enc": cipher.encrypt(data.name),
        "id_number_enc": cipher.encrypt(data.id_number),
        "id_number_hash": digest,
        "phone_enc": cipher.encrypt(data.phone),
        "address_enc": cipher.encrypt(data.address),
        "birth_date": birth,
        "sex": sex.value,
        "source_system": source_system,
        "external_id": external_id,
        "created_by_sub": principal.sub,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


#: the contact fields a find-or-create fills when the person lacks them (never overwrites)
FILLABLE_FIELDS = ("phone", "address")


async def fill_missing(
    session: AsyncSession, cipher: PersonalDataCipher, person: Person, data: PersonCreate
) -> dict[str, str]:
    """Give ``person`` the contact fields it lacks and ``data`` carries (a held value is kept, even if
    ``data`` names another: changing it is ``PATCH``); the fields filled, with their values (for the
    audit record, which masks them). One guarded ``UPDATE`` (``COALESCE``: a field a concurrent write
    filled meanwhile is theirs, not a 412), the version bumped, the change-feed entry queued. The caller
    checked the identity first (:func:`check_found`)."""
    wanted = {
        name: value
        for name in FILLABLE_FIELDS
        if (value := getattr(data, name)) is not None and getattr(person, f"{name}_enc") is None
    }
    if not wanted:
        return {}
    sealed = {f"{name}_enc": cipher.encrypt(value) for name, value in wanted.items()}
    table: Table = Person.__table__  # type: ignore[assignment]
    await session.execute(
        update_statement(table)
        .where(table.c.id == person.id, or_(*(table.c[column].is_(None) for column in sealed)))
        .values(
            {
                **{column: func.coalesce(table.c[column], value) for column, value in sealed.items()},
                "version": table.c.version + 1,
                "updated_at": utcnow(),
            }
        )
    )
    await session.refresh(person)
    filled = {
        name: value
        for name, value in wanted.items()
        if getattr(person, f"{name}_enc") == sealed[f"{name}_enc"]
    }
    if filled:
        changes.track(session, person, previous_scope=changes.full_scope(person))
    return filled


def check_found(principal: Principal, region_code: str, stored_name: str, name: str) -> None:
    """The rules on finding an existing person: a city platform within its city, and the name given
    must be the stored one (409 without revealing it)."""
    if principal.role is Role.city_platform:
        ensure_in_scope_for_write(principal, region_code=region_code, what="居民")
    if _normalised_name(stored_name) != _normalised_name(name):
        raise PersonIdentityMismatch()


async def find_or_create(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    data: PersonCreate,
    *,
    source_system: str | None = None,
    external_id: str | None = None,
) -> tuple[Person, bool, dict[str, str]]:
    """The person with ``data.id_number`` — created if new —, whether it was created, and the contact
    fields an existing person lacked and ``data`` filled (:func:`fill_missing`; audited as
    ``person.update``). An institution user's institution is linked to the person either way. Single
    and bulk writes call this."""
    birth, sex = derived(data)
    digest = cipher.lookup_hash(data.id_number, "id_card")
    person = await session.scalar(select(Person).where(Person.id_number_hash == digest))
    created = False
    if person is None:
        ensure_may_register(principal, data.region_code)
        values = new_values(
            principal, cipher, data, digest, birth, sex, source_system=source_system, external_id=external_id
        )
        dialect = session.get_bind().dialect.name
        inserted = await session.scalar(
            _insert(dialect)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id_number_hash"])
            .returning(Person.id)
        )
        # a concurrent request inserted it first (PostgreSQL waited for its commit): read its row
        person = await session.scalar(
            select(Person).where(Person.id_number_hash == digest).execution_options(populate_existing=True)
        )
        assert person is not None
        created = inserted is not None
        if created:
            changes.track(session, person, previous_scope=None)
            audit.record(
                session,
                principal,
                action="person.create",
                entity_type="person",
                entity_id=person.id,
                changes=data.model_dump(),
                personal_fields=PERSONAL_FIELDS,
            )
    filled: dict[str, str] = {}
    if not created:
        check_found(principal, person.region_code, cipher.decrypt(person.name_enc), data.name)
        filled = await fill_missing(session, cipher, person, data)
        if filled:
            audit.record(
                session,
                principal,
                action="person.update",
                entity_type="person",
                entity_id=person.id,
                changes=filled,
                personal_fields=PERSONAL_FIELDS,
            )
    if principal.is_institution_user and principal.institution_id is not None:
        await link_institution(session, person.id, principal.institution_id, ServingReason.registered)
        if not created:
            audit.record(
                session,
                principal,
                action="person.link",
                entity_type="person",
                entity_id=person.id,
                changes={"institution_id": str(principal.institution_id)},
            )
    return person, created, filled


async def update(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    person: Person,
    data: PersonUpdate,
    if_match: str | None,
) -> Person:
    """Contact data and place of residence. ``person`` was loaded visible to ``principal`` (an
    institution user serves it); a city platform writes only within its city, before and after."""
    if principal.role is Role.city_platform:
        ensure_in_scope_for_write(principal, region_code=person.region_code, what="居民")
    check_if_match(if_match, person.version)
    changed = data.model_dump(exclude_unset=True)
    region_code = changed.get("region_code") or person.region_code
    township_code = changed.get("township_code", person.township_code)
    if "region_code" in changed and "township_code" not in changed:
        township_code = None if region_code != person.region_code else person.township_code
    if township_code is not None and not township_code.startswith(region_code):
        raise TownshipNotInCounty()
    if principal.role is Role.city_platform and not principal.scope.contains(region_code):
        raise RegionNotAllowed("居民所在地不在您的管辖范围内")
    if "phone" in changed:
        person.phone_enc = cipher.encrypt(data.phone)
    if "address" in changed:
        person.address_enc = cipher.encrypt(data.address)
    person.region_code = region_code
    person.township_code = township_code
    await session.flush()
    audit.record(
        session,
        principal,
        action="person.update",
        entity_type="person",
        entity_id=person.id,
        changes=changed,
        personal_fields=PERSONAL_FIELDS,
    )
    return person


def to_read(person: Person, cipher: PersonalDataCipher, *, whole: bool) -> PersonRead:
    """The response form: whole values only when ``whole`` (the caller must audit the disclosure)."""
    name = cipher.decrypt(person.name_enc)
    id_number = cipher.decrypt(person.id_number_enc)
    phone = cipher.decrypt(person.phone_enc)
    address = cipher.decrypt(person.address_enc)
    return PersonRead(
        id=person.id,
        region_code=person.region_code,
        township_code=person.township_code,
        institution_id=person.institution_id,
        disclosed=whole,
        name=name if whole else mask_name(name),
        id_number=id_number if whole else mask_id_card(id_number),
        phone=phone if whole else mask_phone(phone),
        address=address if whole or address is None else mask_address(address),
        birth_date=person.birth_date if whole else None,
        age=clock.age_on(person.birth_date, clock.today()),
        sex=person.sex,
        source_system=person.source_system,
        external_id=person.external_id,
        version=person.version,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )
