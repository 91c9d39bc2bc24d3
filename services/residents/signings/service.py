"""家庭医生签约 contracts: sign a person with a team, renew (a new contract linked to the old), terminate
with a reason, transfer to another team (one ends, the other starts, in one transaction); the signing and
renewal figures by region. The rules are :mod:`services.residents.signings.rules`.

One contract per person has status ``active`` (in force, or run out and not yet renewed): the partial
unique index ``ux_signing_active_person`` makes the database refuse a second one, so two concurrent
signings of one resident cannot both win; the loser answers 409 ``active_signing_exists``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, changes
from libs.common.auth import Principal
from libs.common.bulk_insert import insert_rows
from libs.common.concurrency import check_if_match
from libs.common.errors import IllegalTransition, PreconditionFailed
from libs.common.models import utcnow
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.residents import clock
from services.residents.packages import service as packages
from services.residents.packages.models import ServicePackage
from services.residents.persons import service as persons
from services.residents.persons.models import Person, ServingReason
from services.residents.settings import ResidentsSettings
from services.residents.signings import errors
from services.residents.signings.models import Signing
from services.residents.signings.rules import (
    ELDERLY_AGE,
    SigningOrigin,
    SigningStatus,
    aged_on,
    born_on_or_before_for_age,
    in_force,
    renewal_opens,
    term_end,
)
from services.residents.signings.schemas import (
    RegionRates,
    SignedPackage,
    SigningCreate,
    SigningRates,
    SigningRead,
    SigningRenew,
    SigningTerminate,
    SigningTransfer,
)
from services.residents.teams import service as teams
from services.residents.teams.errors import TeamInactive
from services.residents.teams.models import Team

ENTITY = "signing"
_SIGNING: Table = Signing.__table__  # type: ignore[assignment]
S = SigningStatus
TRANSITIONS: dict[str, frozenset[SigningStatus]] = {
    "renew": frozenset({S.active}),
    "terminate": frozenset({S.active}),
}


def allowed_actions(signing: Signing) -> list[str]:
    return [action for action, sources in TRANSITIONS.items() if signing.status in sources]


def _check_state(signing: Signing, action: str) -> None:
    if signing.status not in TRANSITIONS[action]:
        raise IllegalTransition(
            entity="家庭医生签约", state=signing.status.value, action=action, allowed=allowed_actions(signing)
        )


def _ensure_team_institution(principal: Principal, institution_id: uuid.UUID) -> None:
    if not (principal.is_institution_user and principal.institution_id == institution_id):
        raise errors.NotTeamInstitution()


async def _signing_team(session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> Team:
    """The team a contract is signed with: the caller's institution's (404 otherwise), in use."""
    if not principal.is_institution_user:
        raise errors.NotTeamInstitution()
    team = await teams.get(session, principal, team_id)
    if not team.active:
        raise TeamInactive()
    return team


async def _flush_guarding_person(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent signing of the same person won
        raise errors.ActiveSigningExists() from exc


def _packages_snapshot(chosen: Sequence[ServicePackage]) -> tuple[list[dict[str, Any]], Decimal]:
    ordered = sorted(chosen, key=lambda p: (p.kind.value != "basic", p.code))
    snapshot = [
        {
            "package_id": str(p.id),
            "code": p.code,
            "version_no": p.version_no,
            "name": p.name,
            "kind": p.kind.value,
            "fee_yuan": str(p.fee_yuan),
        }
        for p in ordered
    ]
    return snapshot, sum((p.fee_yuan for p in ordered), Decimal("0.00"))


def contract_values(
    principal: Principal,
    settings: ResidentsSettings,
    *,
    person: Person,
    team: Team,
    chosen: Sequence[ServicePackage],
    start: date,
    origin: SigningOrigin,
    previous: Signing | None,
) -> dict[str, Any]:
    """The columns of a new contract (but the key and bookkeeping): what ``sign`` and ``renew`` add, and
    the residents' bulk sync writes as rows."""
    snapshot, total = _packages_snapshot(chosen)
    return {
        "person_id": person.id,
        "team_id": team.id,
        "institution_id": team.institution_id,
        "region_code": person.region_code,
        "status": S.active,
        "origin": origin,
        "previous_signing_id": previous.id if previous is not None else None,
        "start_date": start,
        "end_date": term_end(start, settings.signing_term_months),
        "packages": snapshot,
        "total_fee_yuan": total,
        "elderly_at_start": aged_on(person.birth_date, start) >= ELDERLY_AGE,
        "signed_by_sub": principal.sub,
        "signed_at": clock.now(),
    }


def _new_contract(
    principal: Principal,
    settings: ResidentsSettings,
    *,
    person: Person,
    team: Team,
    chosen: Sequence[ServicePackage],
    start: date,
    origin: SigningOrigin,
    previous: Signing | None,
) -> Signing:
    return Signing(
        **contract_values(
            principal,
            settings,
            person=person,
            team=team,
            chosen=chosen,
            start=start,
            origin=origin,
            previous=previous,
        )
    )


async def _running_predecessor(session: AsyncSession, signing: Signing, today: date) -> Signing | None:
    """For a renewal that has not begun, the contract it renews while that one is still in force (it ends
    with the renewal when the renewal is terminated or transferred); else ``None``."""
    if signing.start_date <= today or signing.previous_signing_id is None:
        return None
    previous = await session.get(Signing, signing.previous_signing_id)
    if previous is None or previous.status is not S.renewed or previous.ended_date is not None:
        return None
    return previous if previous.start_date <= today <= previous.end_date else None


async def _active_of(session: AsyncSession, person_id: uuid.UUID) -> Signing | None:
    return await session.scalar(
        select(Signing).where(Signing.person_id == person_id, Signing.status == S.active)
    )


async def _record(
    session: AsyncSession, principal: Principal, signing: Signing, action: str, changes: dict[str, Any]
) -> None:
    audit.record(
        session,
        principal,
        action=f"signing.{action}",
        entity_type=ENTITY,
        entity_id=signing.id,
        changes={"status": signing.status.value, **changes},
    )


async def sign(
    session: AsyncSession, principal: Principal, settings: ResidentsSettings, data: SigningCreate, today: date
) -> Signing:
    """A new contract. A contract of the person that has run out unrenewed is closed as ``expired``
    first; one still in force answers 409 ``active_signing_exists`` (renew or transfer it)."""
    team = await _signing_team(session, principal, data.team_id)
    start = data.start_date or today
    if start > today:
        raise errors.StartDateInvalid("起始日期不能晚于今天")
    person = await persons.get(session, principal, data.person_id)
    chosen = await packages.for_contract(session, team.institution_id, data.package_ids)
    current = await _active_of(session, person.id)
    if current is not None:
        if current.end_date >= start:
            raise errors.ActiveSigningExists()
        current.status = S.expired
        await session.flush()
        await _record(session, principal, current, "expire", {"end_date": current.end_date})
    signing = _new_contract(
        principal,
        settings,
        person=person,
        team=team,
        chosen=chosen,
        start=start,
        origin=SigningOrigin.new,
        previous=None,
    )
    session.add(signing)
    await _flush_guarding_person(session)
    await persons.link_institution(session, person.id, team.institution_id, ServingReason.signed)
    await _record(session, principal, signing, "sign", {"team_id": str(team.id), "start_date": start})
    return signing


async def get(session: AsyncSession, principal: Principal, signing_id: uuid.UUID) -> Signing:
    signing = await session.scalar(
        select(Signing).where(
            Signing.id == signing_id,
            visible_condition(principal, Signing.region_code, Signing.institution_id),
        )
    )
    if signing is None:
        raise errors.SigningNotFound()
    return signing


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    person_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    institution_id: uuid.UUID | None,
    status: SigningStatus | None,
    region_code: str | None,
) -> tuple[list[Signing], str | None]:
    stmt = select(Signing).where(visible_condition(principal, Signing.region_code, Signing.institution_id))
    if person_id is not None:
        stmt = stmt.where(Signing.person_id == person_id)
    if team_id is not None:
        stmt = stmt.where(Signing.team_id == team_id)
    if institution_id is not None:
        stmt = stmt.where(Signing.institution_id == institution_id)
    if status is not None:
        stmt = stmt.where(Signing.status == status)
    if region_code is not None:
        stmt = stmt.where(Signing.region_code == region_code)
    return await paginate(session, stmt, order_by=[Signing.id], params=params)


async def renew(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    signing: Signing,
    data: SigningRenew | None,
    if_match: str | None,
    today: date,
) -> Signing:
    """Before or at expiry (within the renewal window): the contract becomes ``renewed`` and a new one,
    linked to it, starts the day after it ends, with the same team."""
    _check_state(signing, "renew")
    _ensure_team_institution(principal, signing.institution_id)
    check_if_match(if_match, signing.version)
    if today > signing.end_date:
        raise errors.SigningLapsed(signing.end_date)
    opens = renewal_opens(signing.end_date, settings.signing_renewal_window_days)
    if today < opens:
        raise errors.RenewalNotOpen(opens)
    team = await session.get_one(Team, signing.team_id)
    if not team.active:
        raise TeamInactive()
    if data is not None and data.package_ids is not None:
        chosen = await packages.for_contract(session, team.institution_id, data.package_ids)
    else:
        codes = [p["code"] for p in signing.packages]
        current = await packages.current_versions(session, team.institution_id, codes)
        chosen = await packages.for_contract(session, team.institution_id, [p.id for p in current])
    person = await session.get_one(Person, signing.person_id)
    signing.status = S.renewed
    await session.flush()  # the renewed contract leaves the one-active-per-person index first
    successor = _new_contract(
        principal,
        settings,
        person=person,
        team=team,
        chosen=chosen,
        start=signing.end_date + timedelta(days=1),
        origin=SigningOrigin.renewal,
        previous=signing,
    )
    session.add(successor)
    await _flush_guarding_person(session)
    await _record(session, principal, signing, "renewed", {"successor_id": str(successor.id)})
    await _record(session, principal, successor, "renew", {"previous_signing_id": str(signing.id)})
    return successor


async def renew_many(
    session: AsyncSession,
    principals: Mapping[uuid.UUID, Principal],
    settings: ResidentsSettings,
    signing_ids: Sequence[uuid.UUID],
    day_of: Callable[[Signing], date],
) -> list[uuid.UUID]:
    """:func:`renew` of many contracts, each on its day (``day_of``) with their packages' current
    versions, by its institution's principal (``principals``): the contracts, teams and packages read in
    one SELECT each (the packages once per institution and codes), the rules of ``renew`` checked in
    memory (a ``DomainError`` stops the whole), the renewed contracts updated in one flush and their
    successors, feed entries and audit records written in one statement each. Returns the successors'
    ids, in order. For writers of many (the demo seed); a caller's single renewal is :func:`renew`."""
    if not signing_ids:
        return []
    contracts = {s.id: s for s in await session.scalars(select(Signing).where(Signing.id.in_(signing_ids)))}
    team_of = {
        t.id: t
        for t in await session.scalars(
            select(Team).where(Team.id.in_({c.team_id for c in contracts.values()}))
        )
    }
    person_of = {
        p.id: p
        for p in await session.scalars(
            select(Person).where(Person.id.in_({c.person_id for c in contracts.values()}))
        )
    }
    chosen_of: dict[tuple[uuid.UUID, tuple[str, ...]], list[ServicePackage]] = {}
    successors: list[dict[str, Any]] = []
    renewed: list[dict[str, Any]] = []
    entries: dict[uuid.UUID, list[audit.Entry]] = {}
    now = utcnow()
    for signing_id in signing_ids:
        signing = contracts[signing_id]
        principal = principals[signing.institution_id]
        today = day_of(signing)
        _check_state(signing, "renew")
        _ensure_team_institution(principal, signing.institution_id)
        if today > signing.end_date:
            raise errors.SigningLapsed(signing.end_date)
        opens = renewal_opens(signing.end_date, settings.signing_renewal_window_days)
        if today < opens:
            raise errors.RenewalNotOpen(opens)
        team = team_of[signing.team_id]
        if not team.active:
            raise TeamInactive()
        key = (team.institution_id, tuple(p["code"] for p in signing.packages))
        if key not in chosen_of:
            current = await packages.current_versions(session, *key)
            chosen_of[key] = await packages.for_contract(
                session, team.institution_id, [p.id for p in current]
            )
        before = {column.key: getattr(signing, column.key) for column in _SIGNING.columns}
        renewed.append({**before, "status": S.renewed, "version": signing.version + 1, "updated_at": now})
        values = {
            "id": uuid.uuid4(),
            **contract_values(
                principal,
                settings,
                person=person_of[signing.person_id],
                team=team,
                chosen=chosen_of[key],
                start=signing.end_date + timedelta(days=1),
                origin=SigningOrigin.renewal,
                previous=signing,
            ),
            "ended_date": None,
            "termination_reason": None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        successors.append(values)
        entries.setdefault(signing.institution_id, []).extend(
            [
                audit.Entry(
                    action="signing.renewed",
                    entity_type=ENTITY,
                    entity_id=signing.id,
                    changes={"status": S.renewed.value, "successor_id": str(values["id"])},
                ),
                audit.Entry(
                    action="signing.renew",
                    entity_type=ENTITY,
                    entity_id=values["id"],
                    changes={"status": S.active.value, "previous_signing_id": str(signing.id)},
                ),
            ]
        )
    # the renewed contracts leave the one-active-per-person index first: one UPDATE for the lot (an ORM
    # flush of versioned rows is one statement per row), each still in force as read
    for start in range(0, len(renewed), 1000):
        chunk = renewed[start : start + 1000]
        done = await session.execute(
            update(Signing)
            .where(
                Signing.id.in_([r["id"] for r in chunk]),
                Signing.status == S.active,  # read in this transaction: still the state checked
            )
            .values(status=S.renewed, version=Signing.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != len(chunk):  # type: ignore[attr-defined]
            raise PreconditionFailed("签约已被他人修改，请刷新后重试", code="version_mismatch")
    for signing in contracts.values():
        session.expire(signing)
    for values in renewed:
        changes.track_values(
            session, Signing, values, previous_scope=changes.scope_of_values(Signing, values)
        )
    await insert_rows(session, _SIGNING, successors)
    for values in successors:
        changes.track_values(session, Signing, values, previous_scope=None)
    for institution_id, institution_entries in entries.items():
        audit.record_many(session, principals[institution_id], institution_entries)
    return [values["id"] for values in successors]


async def terminate(
    session: AsyncSession,
    principal: Principal,
    signing: Signing,
    data: SigningTerminate,
    if_match: str | None,
    today: date,
) -> Signing:
    _check_state(signing, "terminate")
    _ensure_team_institution(principal, signing.institution_id)
    check_if_match(if_match, signing.version)
    ended = data.ended_date or min(today, signing.end_date)
    running = await _running_predecessor(session, signing, today)
    if ended > today:
        raise errors.EndedDateInvalid("解约日期不能晚于今天")
    if ended > signing.end_date:
        raise errors.EndedDateInvalid("解约日期不能晚于合同到期日")
    if ended < (running.start_date if running is not None else min(signing.start_date, today)):
        raise errors.EndedDateInvalid("解约日期不能早于合同起始日期")
    if running is not None:  # a renewal not yet begun: the contract it renews ends with it
        running.ended_date = ended
    signing.status = S.terminated
    signing.ended_date = ended
    signing.termination_reason = data.reason
    await session.flush()
    await _record(
        session, principal, signing, "terminate", {"reason": data.reason.value, "ended_date": ended}
    )
    return signing


async def transfer(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    data: SigningTransfer,
    today: date,
) -> Signing:
    """转签, by the receiving team's institution: the person's contract in force (with any team) ends today
    as ``transferred`` and a new one with the team starts today, for a full term — both or neither."""
    team = await _signing_team(session, principal, data.team_id)
    person = await persons.get(session, principal, data.person_id)
    chosen = await packages.for_contract(session, team.institution_id, data.package_ids)
    current = await _active_of(session, person.id)
    running = None if current is None else await _running_predecessor(session, current, today)
    if current is None or current.start_date > today and running is None:
        raise errors.NoSigningInForce()
    if current.end_date < today:
        raise errors.SigningLapsed(current.end_date)
    if current.team_id == team.id:
        raise errors.SameTeam()
    if running is not None:  # a renewal not yet begun: the contract in force is the one it renews
        running.status = S.transferred
        running.ended_date = today
    current.status = S.transferred
    current.ended_date = today  # before its start when it had not begun: never in force
    current.termination_reason = None
    await session.flush()  # the ended contract leaves the one-active-per-person index first
    successor = _new_contract(
        principal,
        settings,
        person=person,
        team=team,
        chosen=chosen,
        start=today,
        origin=SigningOrigin.transfer,
        previous=current,
    )
    session.add(successor)
    await _flush_guarding_person(session)
    await persons.link_institution(session, person.id, team.institution_id, ServingReason.signed)
    await _record(
        session, principal, current, "transferred", {"successor_id": str(successor.id), "ended_date": today}
    )
    await _record(
        session,
        principal,
        successor,
        "transfer",
        {"previous_signing_id": str(current.id), "team_id": str(team.id)},
    )
    return successor


# ------------------------------------------------------------------------------------------ figures


def _in_force_on(day: date) -> ColumnElement[bool]:
    return and_(
        Signing.start_date <= day,
        or_(
            and_(Signing.ended_date.is_(None), Signing.end_date >= day),
            Signing.ended_date >= day,
        ),
    )


def _due_in(first: date, last: date, today: date) -> ColumnElement[bool]:
    return and_(
        Signing.end_date >= first,
        Signing.end_date <= last,
        or_(
            Signing.status == S.renewed,
            and_(Signing.status.in_([S.active, S.expired]), Signing.end_date < today),
        ),
    )


def _pct(part: int, whole: int) -> Decimal | None:
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def rates(session: AsyncSession, principal: Principal, year: int, today: date) -> SigningRates:
    """Per county in the caller's scope: persons signed on the period's last day (today for the current
    year), of them aged 65 or over that day; contracts due for renewal in the year and renewed."""
    if year > today.year:
        raise errors.PeriodInFuture()
    first, last = date(year, 1, 1), date(year, 12, 31)
    as_of = min(last, today)
    cutoff = born_on_or_before_for_age(as_of, ELDERLY_AGE)
    scope = visible_condition(principal, Signing.region_code, Signing.institution_id)
    signed = (
        select(
            Signing.region_code,
            func.count(func.distinct(Signing.person_id)),
            func.count(func.distinct(case((Person.birth_date <= cutoff, Signing.person_id)))),
        )
        .join(Person, Person.id == Signing.person_id)
        .where(scope, _in_force_on(as_of))
        .group_by(Signing.region_code)
    )
    due = (
        select(
            Signing.region_code,
            func.count(),
            func.count(case((Signing.status == S.renewed, Signing.id))),
        )
        .where(scope, _due_in(first, last, today))
        .group_by(Signing.region_code)
    )
    rows: dict[str, list[int]] = {}
    for region, persons_, elderly in (await session.execute(signed)).all():
        rows.setdefault(region, [0, 0, 0, 0])[0:2] = [int(persons_), int(elderly)]
    for region, due_count, renewed in (await session.execute(due)).all():
        rows.setdefault(region, [0, 0, 0, 0])[2:4] = [int(due_count), int(renewed)]
    items = [_region_rates(region, *rows[region]) for region in sorted(rows)]
    totals = [sum(values[i] for values in rows.values()) for i in range(4)]
    scope_code = principal.scope.prefix
    return SigningRates(year=year, as_of=as_of, items=items, total=_region_rates(scope_code, *totals))


def _region_rates(region: str, persons_: int, elderly: int, due: int, renewed: int) -> RegionRates:
    return RegionRates(
        region_code=region,
        signed_persons=persons_,
        signed_persons_65_plus=elderly,
        due_for_renewal=due,
        renewed=renewed,
        renewal_rate_pct=_pct(renewed, due),
    )


def to_read(signing: Signing, today: date, settings: ResidentsSettings) -> SigningRead:
    return SigningRead(
        id=signing.id,
        person_id=signing.person_id,
        team_id=signing.team_id,
        institution_id=signing.institution_id,
        region_code=signing.region_code,
        status=signing.status,
        origin=signing.origin,
        previous_signing_id=signing.previous_signing_id,
        start_date=signing.start_date,
        end_date=signing.end_date,
        ended_date=signing.ended_date,
        termination_reason=signing.termination_reason,
        packages=[SignedPackage.model_validate(p) for p in signing.packages],
        total_fee_yuan=signing.total_fee_yuan,
        elderly_at_start=signing.elderly_at_start,
        in_force=in_force(signing.start_date, signing.end_date, signing.ended_date, today),
        renewal_opens_on=renewal_opens(signing.end_date, settings.signing_renewal_window_days),
        allowed_actions=allowed_actions(signing),
        signed_at=signing.signed_at,
        version=signing.version,
        created_at=signing.created_at,
        updated_at=signing.updated_at,
    )
