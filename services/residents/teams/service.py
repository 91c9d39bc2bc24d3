"""家庭医生团队: created by a user of a primary-care institution with its members (registry practitioners,
checked), led by a 全科医生; members added and removed; stopped once no contract is in force.

What the registry must say is fetched before the request's write transaction opens (:func:`fetch`), and
the rules are checked here on what it said.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.residents import clock
from services.residents.clients.registry import InstitutionInfo, PractitionerInfo, RegistryClient
from services.residents.signings.models import Signing
from services.residents.signings.rules import SigningStatus
from services.residents.teams import errors
from services.residents.teams.models import Team, TeamMember
from services.residents.teams.rules import (
    TEAM_ROLE_LABELS,
    TeamRole,
    has_required_role,
    missing_roles,
    qualifies,
)
from services.residents.teams.schemas import (
    TeamCreate,
    TeamMemberCreate,
    TeamMemberRead,
    TeamRead,
    TeamUpdate,
)

ENTITY = "team"
KIND_LABELS = {"doctor": "医师", "nurse": "护士", "carer": "护理员"}


@dataclass(frozen=True, slots=True)
class Fetched:
    """What the registry said of an institution and of practitioners (``None``: it does not know them)."""

    institution: InstitutionInfo | None
    practitioners: dict[uuid.UUID, PractitionerInfo | None]


async def fetch(
    registry: RegistryClient, institution_id: uuid.UUID | None, practitioner_ids: Iterable[uuid.UUID]
) -> Fetched:
    """Ask the registry first (before the session's first statement)."""
    ids = list(dict.fromkeys(practitioner_ids))
    institution = await registry.get_institution(institution_id) if institution_id is not None else None
    found = {i: await registry.get_practitioner(i) for i in ids}  # one after another: a team is small
    return Fetched(institution, found)


def institution_of(principal: Principal) -> uuid.UUID:
    """The caller's institution: teams are managed by its users only."""
    if not principal.is_institution_user or principal.institution_id is None:
        raise errors.InstitutionUserRequired()
    return principal.institution_id


def check_institution(info: InstitutionInfo | None) -> InstitutionInfo:
    if info is None or not info.active or not info.is_primary_care:
        raise errors.InstitutionNotPrimaryCare()
    return info


def check_member(
    field: str, info: PractitionerInfo | None, institution_id: uuid.UUID, role: TeamRole
) -> PractitionerInfo:
    """The registry confirms the practitioner: exists, active, of the team's institution, a kind that
    may hold ``role``."""
    if info is None:
        raise errors.practitioner_not_found(field)
    if not info.active:
        raise errors.practitioner_inactive(field)
    if info.institution_id != institution_id:
        raise errors.practitioner_of_other_institution(field)
    if not qualifies(role, info.kind):
        raise errors.role_not_qualified(field, TEAM_ROLE_LABELS[role], KIND_LABELS.get(info.kind, info.kind))
    return info


def _member(team: Team, info: PractitionerInfo, role: TeamRole) -> TeamMember:
    return TeamMember(
        team_id=team.id,
        institution_id=team.institution_id,
        region_code=team.region_code,
        practitioner_id=info.id,
        practitioner_name=info.name,
        practitioner_kind=info.kind,
        role=role,
    )


async def _flush_guarding_name(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent create of the same name won
        raise errors.TeamNameExists() from exc


def _leader(members: Sequence[TeamMemberCreate], wanted: uuid.UUID | None) -> uuid.UUID:
    doctors = [m.practitioner_id for m in members if m.role is TeamRole.general_practitioner]
    if wanted is None:
        return doctors[0]
    if wanted not in doctors:
        raise errors.LeaderNotGeneralPractitioner()
    return wanted


async def create(session: AsyncSession, principal: Principal, data: TeamCreate, fetched: Fetched) -> Team:
    institution_id = institution_of(principal)
    institution = check_institution(fetched.institution)
    ids = [m.practitioner_id for m in data.members]
    if len(set(ids)) != len(ids):
        raise errors.DuplicateMember()
    if not has_required_role(m.role for m in data.members):
        raise errors.TeamNeedsGeneralPractitioner()
    infos = [
        check_member(
            f"members.{i}.practitioner_id",
            fetched.practitioners.get(m.practitioner_id),
            institution_id,
            m.role,
        )
        for i, m in enumerate(data.members)
    ]
    leader = _leader(data.members, data.leader_practitioner_id)
    existing = await session.scalar(
        select(Team.id).where(Team.institution_id == institution_id, Team.name == data.name)
    )
    if existing is not None:
        raise errors.TeamNameExists()
    team = Team(
        id=uuid.uuid4(),
        institution_id=institution_id,
        institution_name=institution.name,
        region_code=institution.region_code,
        name=data.name,
        leader_practitioner_id=leader,
        active=True,
    )
    session.add(team)
    await _flush_guarding_name(session)
    session.add_all(_member(team, info, m.role) for info, m in zip(infos, data.members, strict=True))
    await session.flush()
    audit.record(
        session,
        principal,
        action="team.create",
        entity_type=ENTITY,
        entity_id=team.id,
        changes={
            "name": team.name,
            "members": [[str(m.practitioner_id), m.role.value] for m in data.members],
        },
    )
    return team


async def get(session: AsyncSession, principal: Principal, team_id: uuid.UUID) -> Team:
    team = await session.scalar(
        select(Team).where(
            Team.id == team_id, visible_condition(principal, Team.region_code, Team.institution_id)
        )
    )
    if team is None:
        raise errors.TeamNotFound()
    return team


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    institution_id: uuid.UUID | None,
    region_code: str | None,
    active: bool | None,
) -> tuple[list[Team], str | None]:
    stmt = select(Team).where(visible_condition(principal, Team.region_code, Team.institution_id))
    if institution_id is not None:
        stmt = stmt.where(Team.institution_id == institution_id)
    if region_code is not None:
        stmt = stmt.where(Team.region_code == region_code)
    if active is not None:
        stmt = stmt.where(Team.active == active)
    return await paginate(session, stmt, order_by=[Team.id], params=params)


async def members_of(
    session: AsyncSession, team_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[TeamMember]]:
    ids = list(team_ids)
    found: dict[uuid.UUID, list[TeamMember]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = await session.scalars(
        select(TeamMember).where(TeamMember.team_id.in_(ids)).order_by(TeamMember.created_at, TeamMember.id)
    )
    for member in rows:
        found[member.team_id].append(member)
    return found


async def _saved(
    session: AsyncSession, principal: Principal, team: Team, action: str, changes: dict[str, object]
) -> Team:
    team.updated_at = clock.now()  # a member change is a change of the team: its version moves
    await _flush_guarding_name(session)
    audit.record(
        session, principal, action=f"team.{action}", entity_type=ENTITY, entity_id=team.id, changes=changes
    )
    return team


async def update(
    session: AsyncSession, principal: Principal, team: Team, data: TeamUpdate, if_match: str | None
) -> Team:
    check_if_match(if_match, team.version)
    changes: dict[str, object] = {}
    if data.leader_practitioner_id is not None and data.leader_practitioner_id != team.leader_practitioner_id:
        member = await _find_member(session, team, data.leader_practitioner_id)
        if member is None or member.role is not TeamRole.general_practitioner:
            raise errors.LeaderNotGeneralPractitioner()
        team.leader_practitioner_id = data.leader_practitioner_id
        changes["leader_practitioner_id"] = str(data.leader_practitioner_id)
    if data.name is not None and data.name != team.name:
        clash = await session.scalar(
            select(Team.id).where(Team.institution_id == team.institution_id, Team.name == data.name)
        )
        if clash is not None:
            raise errors.TeamNameExists()
        team.name = data.name
        changes["name"] = data.name
    return await _saved(session, principal, team, "update", changes)


async def _find_member(session: AsyncSession, team: Team, practitioner_id: uuid.UUID) -> TeamMember | None:
    return await session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.practitioner_id == practitioner_id)
    )


async def add_member(
    session: AsyncSession,
    principal: Principal,
    team: Team,
    data: TeamMemberCreate,
    info: PractitionerInfo | None,
    if_match: str | None,
) -> Team:
    check_if_match(if_match, team.version)
    checked = check_member("practitioner_id", info, team.institution_id, data.role)
    if await _find_member(session, team, data.practitioner_id) is not None:
        raise errors.MemberExists()
    session.add(_member(team, checked, data.role))
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent add of the same practitioner won
        raise errors.MemberExists() from exc
    return await _saved(
        session,
        principal,
        team,
        "add_member",
        {"practitioner_id": str(data.practitioner_id), "role": data.role.value},
    )


async def remove_member(
    session: AsyncSession, principal: Principal, team: Team, practitioner_id: uuid.UUID, if_match: str | None
) -> Team:
    check_if_match(if_match, team.version)
    member = await _find_member(session, team, practitioner_id)
    if member is None:
        raise errors.MemberNotFound()
    if practitioner_id == team.leader_practitioner_id:
        raise errors.LeaderCannotLeave()
    await session.delete(member)
    return await _saved(session, principal, team, "remove_member", {"practitioner_id": str(practitioner_id)})


async def deactivate(session: AsyncSession, principal: Principal, team: Team, if_match: str | None) -> Team:
    check_if_match(if_match, team.version)
    if not team.active:
        return team
    in_force = await session.scalar(
        select(func.count())
        .select_from(Signing)
        .where(Signing.team_id == team.id, Signing.status == SigningStatus.active)
    )
    if in_force:
        raise errors.TeamHasSignings(int(in_force))
    team.active = False
    return await _saved(session, principal, team, "deactivate", {"active": False})


def to_read(team: Team, members: Sequence[TeamMember]) -> TeamRead:
    return TeamRead(
        id=team.id,
        institution_id=team.institution_id,
        institution_name=team.institution_name,
        region_code=team.region_code,
        name=team.name,
        leader_practitioner_id=team.leader_practitioner_id,
        active=team.active,
        members=[TeamMemberRead.model_validate(m) for m in members],
        missing_roles=missing_roles(m.role for m in members),
        version=team.version,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )
