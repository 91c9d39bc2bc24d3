"""/api/v1/residents/teams: 家庭医生团队 and their members."""

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
from services.residents.permissions import TeamsRead, TeamsWrite
from services.residents.teams import service
from services.residents.teams.models import Team
from services.residents.teams.schemas import TeamCreate, TeamMemberCreate, TeamRead, TeamUpdate

router = ServiceRouter(prefix="/api/v1/residents/teams", tags=["residents-teams"])
VisibleTeam = Annotated[Team, Depends(load_visible(service.get, permission=TeamsRead, id_name="team_id"))]
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428, 502, 504)


@router.get(
    "",
    summary="家庭医生团队列表",
    operation_id="residents_list_teams",
    response_model=Page[TeamRead],
    responses=problem_responses(401, 403, 422),
)
async def list_teams(
    session: SessionDep,
    principal: TeamsRead,
    page: PageDep,
    institution_id: uuid.UUID | None = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="县级区划代码")] = None,
    active: bool | None = None,
) -> Page[TeamRead]:
    rows, next_cursor = await service.list_(
        session, principal, params=page, institution_id=institution_id, region_code=region_code, active=active
    )
    members = await service.members_of(session, [t.id for t in rows])
    return Page(
        items=[service.to_read(t, members[t.id]) for t in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "",
    summary="组建家庭医生团队（基层医疗卫生机构；三师两员，至少一名全科医生）",
    description=(
        "成员须为机构注册服务中本机构在岗的医务人员（practitioner_not_found、practitioner_inactive、"
        "practitioner_not_of_institution），且人员类别可担任其角色（role_not_qualified：全科医生、专科医生、"
        "乡村医生须为医师，健康管理员为医师或护士，人口管理员为任一在册人员）；团队须至少一名全科医生"
        "（team_needs_general_practitioner），团队长须为本团队全科医生（leader_not_general_practitioner）；"
        "机构须为社区卫生服务中心/站、乡镇卫生院或村卫生室（not_primary_care_institution）。"
    ),
    operation_id="residents_create_team",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamRead,
    responses=problem_responses(401, 403, 409, 422, 502, 504),
)
async def create_team(
    session: SessionDep, principal: TeamsWrite, registry: RegistryDep, data: TeamCreate, response: Response
) -> TeamRead:
    # the registry first: the session's first statement opens the write transaction
    fetched = await service.fetch(
        registry, service.institution_of(principal), [m.practitioner_id for m in data.members]
    )
    team = await service.create(session, principal, data, fetched)
    set_etag(response, team.version)
    response.headers["Location"] = f"{router.prefix}/{team.id}"
    return service.to_read(team, (await service.members_of(session, [team.id]))[team.id])


@router.get(
    "/{team_id}",
    summary="家庭医生团队详情（含成员）",
    operation_id="residents_get_team",
    response_model=TeamRead,
    responses=problem_responses(401, 403, 404),
)
async def get_team(session: SessionDep, team: VisibleTeam, response: Response) -> TeamRead:
    set_etag(response, team.version)
    return service.to_read(team, (await service.members_of(session, [team.id]))[team.id])


@router.patch(
    "/{team_id}",
    summary="修改团队名称或团队长（If-Match）",
    operation_id="residents_update_team",
    response_model=TeamRead,
    responses=WRITE_ERRORS,
)
async def update_team(
    session: SessionDep,
    principal: TeamsWrite,
    team_id: uuid.UUID,
    data: TeamUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> TeamRead:
    team = await service.get(session, principal, team_id)
    team = await service.update(session, principal, team, data, if_match)
    set_etag(response, team.version)
    return service.to_read(team, (await service.members_of(session, [team.id]))[team.id])


@router.post(
    "/{team_id}/members",
    summary="增加团队成员（If-Match 为团队版本）",
    operation_id="residents_add_team_member",
    response_model=TeamRead,
    responses=WRITE_ERRORS,
)
async def add_team_member(
    session: SessionDep,
    principal: TeamsWrite,
    registry: RegistryDep,
    team_id: uuid.UUID,
    data: TeamMemberCreate,
    response: Response,
    if_match: IfMatch = None,
) -> TeamRead:
    service.institution_of(principal)
    info = await registry.get_practitioner(data.practitioner_id)  # before the first statement
    team = await service.get(session, principal, team_id)
    team = await service.add_member(session, principal, team, data, info, if_match)
    set_etag(response, team.version)
    return service.to_read(team, (await service.members_of(session, [team.id]))[team.id])


@router.delete(
    "/{team_id}/members/{practitioner_id}",
    summary="移出团队成员（团队长不能移出；If-Match 为团队版本）",
    operation_id="residents_remove_team_member",
    response_model=TeamRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def remove_team_member(
    session: SessionDep,
    principal: TeamsWrite,
    team_id: uuid.UUID,
    practitioner_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
) -> TeamRead:
    team = await service.get(session, principal, team_id)
    team = await service.remove_member(session, principal, team, practitioner_id, if_match)
    set_etag(response, team.version)
    return service.to_read(team, (await service.members_of(session, [team.id]))[team.id])


@router.post(
    "/{team_id}/deactivate",
    summary="停用团队（须无履约中的签约）",
    operation_id="residents_deactivate_team",
    response_model=TeamRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def deactivate_team(
    session: SessionDep,
    principal: TeamsWrite,
    team_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
) -> TeamRead:
    team = await service.get(session, principal, team_id)
    team = await service.deactivate(session, principal, team, if_match)
    set_etag(response, team.version)
    return service.to_read(team, (await service.members_of(session, [team.id]))[team.id])
