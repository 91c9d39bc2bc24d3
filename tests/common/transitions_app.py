"""A throwaway service whose one state machine moves only through a :mod:`libs.common.transitions` table.

A ticket is drafted in a county, submitted by the county, then approved or returned (with a reason) by
the city; a returned ticket is a draft again. The table below is the whole of its transition routes: the
test of the mechanism (tests/common/test_transitions.py) checks what the table makes of it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import MetaData, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common.access import Policy
from libs.common.auth import Principal, Role, TokenVerifier
from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.errors import IllegalTransition, NotFound, problem_responses
from libs.common.loading import load_visible
from libs.common.models import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, EntityMixin
from libs.common.routing import ServiceRouter
from libs.common.scope import can_see, ensure_in_scope_for_write
from libs.common.service_app import create_service_app
from libs.common.settings import ServiceSettings
from libs.common.transitions import Transition, TransitionTable, add_transition_routes, load_then_move


class TransitionsSettings(ServiceSettings):
    service_name: str = "transitions_sample"


class TransitionsBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class TicketState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"


#: the state machine: which action each state allows, and where it leads
MOVES: dict[TicketState, dict[str, TicketState]] = {
    TicketState.draft: {"submit": TicketState.submitted},
    TicketState.submitted: {"approve": TicketState.approved, "return": TicketState.draft},
    TicketState.approved: {},
}


class Ticket(EntityMixin, TransitionsBase):
    __tablename__ = "ticket"

    region_code: Mapped[str] = mapped_column(String(6))
    state: Mapped[str] = mapped_column(String(20), default=TicketState.draft.value)
    return_reason: Mapped[str | None] = mapped_column(String(200))


class TicketCreate(BaseModel):
    region_code: str = Field(pattern=r"^35\d{4}$")


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    region_code: str
    state: TicketState
    return_reason: str | None
    version: int


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


POLICY = Policy(
    {
        Role.province_admin: {"tickets:read"},
        Role.city_admin: {"tickets:read", "tickets:review"},
        Role.county_admin: {"tickets:read", "tickets:submit"},
    }
)
TicketsRead = Annotated[Principal, Depends(POLICY.require("tickets:read"))]
TicketsSubmit = Annotated[Principal, Depends(POLICY.require("tickets:submit"))]
TicketsReview = Annotated[Principal, Depends(POLICY.require("tickets:review"))]

router = ServiceRouter(prefix="/api/v1/transitions_sample/tickets", tags=["tickets"])


async def get(session: AsyncSession, principal: Principal, ticket_id: uuid.UUID) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or not can_see(principal, region_code=ticket.region_code):
        raise NotFound("工单不存在", code="ticket_not_found")
    return ticket


VisibleTicket = Annotated[Ticket, Depends(load_visible(get, permission=TicketsRead, id_name="ticket_id"))]


@router.post(
    "",
    response_model=TicketRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="sample_create_ticket",
    responses=problem_responses(401, 403, 422),
)
async def create_ticket(
    session: SessionDep, principal: TicketsSubmit, data: TicketCreate, response: Response
) -> TicketRead:
    ensure_in_scope_for_write(principal, region_code=data.region_code)
    ticket = Ticket(region_code=data.region_code, state=TicketState.draft.value)
    session.add(ticket)
    await session.flush()
    set_etag(response, ticket.version)
    return TicketRead.model_validate(ticket)


@router.get("/{ticket_id}", response_model=TicketRead, operation_id="sample_get_ticket")
async def get_ticket(principal: TicketsRead, ticket: VisibleTicket, response: Response) -> TicketRead:
    set_etag(response, ticket.version)
    return TicketRead.model_validate(ticket)


# ------------------------------------------------------------------------------------------ transitions


@dataclass(frozen=True, slots=True)
class TicketStep:
    session: AsyncSession
    ticket_id: uuid.UUID


async def ticket_step(session: SessionDep, ticket_id: uuid.UUID) -> TicketStep:
    return TicketStep(session, ticket_id)


async def _load(step: TicketStep, principal: Principal) -> Ticket:
    return await get(step.session, principal, step.ticket_id)


def _move(action: str) -> Any:
    async def move(step: TicketStep, principal: Principal, ticket: Ticket, body: Any) -> None:
        allowed = MOVES[TicketState(ticket.state)]
        if action not in allowed:
            raise IllegalTransition(entity="工单", state=ticket.state, action=action, allowed=list(allowed))
        ticket.state = allowed[action].value
        ticket.return_reason = body.reason if isinstance(body, ReturnBody) else None
        await step.session.flush()

    return load_then_move(_load, move)


TRANSITIONS = TransitionTable(
    prefix="/{ticket_id}",
    context=ticket_step,
    present=lambda step, principal, ticket: TicketRead.model_validate(ticket),
    response_model=TicketRead,
    rows=(
        Transition(
            "submit", TicketsSubmit, _move("submit"), summary="提交工单", operation_id="sample_submit_ticket"
        ),
        Transition(
            "approve",
            TicketsReview,
            _move("approve"),
            summary="通过工单",
            operation_id="sample_approve_ticket",
        ),
        Transition(
            "return",
            TicketsReview,
            _move("return"),
            summary="退回工单（须说明理由）",
            operation_id="sample_return_ticket",
            body=ReturnBody,
            body_name="data",
        ),
    ),
)
add_transition_routes(router, TRANSITIONS)


def create_transitions_app(settings: TransitionsSettings, verifier: TokenVerifier) -> FastAPI:
    return create_service_app(
        settings, title="transitions_sample", description="test service", routers=[router], verifier=verifier
    )
