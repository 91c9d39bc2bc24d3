"""A throwaway service used to test the shared mechanisms of libs/common in isolation.

Its one table is made with ``create_all`` (a unit fixture, not a service): the real services are
migrated with Alembic.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import MetaData, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from libs.common import audit
from libs.common.access import Policy
from libs.common.auth import Principal, Role, TokenVerifier
from libs.common.change_feed import change_feed_router
from libs.common.changes import FeedEntity, feed_payload
from libs.common.concurrency import IfMatch, check_if_match, set_etag
from libs.common.database import SessionDep
from libs.common.errors import NotFound, problem_responses
from libs.common.models import NAMING_CONVENTION, TYPE_ANNOTATION_MAP, ChangeTracked, EntityMixin
from libs.common.pagination import Page, PageDep, paginate
from libs.common.routing import ServiceRouter
from libs.common.scope import can_see, ensure_in_scope_for_write, visible_condition
from libs.common.service_app import create_service_app
from libs.common.settings import ServiceSettings


class SampleSettings(ServiceSettings):
    service_name: str = "sample"


class SampleBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class Note(EntityMixin, ChangeTracked, SampleBase):
    __tablename__ = "note"
    __change_entity__ = "note"
    __change_exclude__ = frozenset({"secret"})

    title: Mapped[str] = mapped_column(String(100), unique=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    institution_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    secret: Mapped[str | None] = mapped_column(String(100))
    #: a second county whose officials also read the note (as an agreement's other party's county)
    shared_region_code: Mapped[str | None] = mapped_column(String(6), index=True)

    def change_other_region(self) -> str | None:
        return self.shared_region_code


class NoteCreate(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    region_code: str = Field(pattern=r"^35\d{4}$")
    institution_id: uuid.UUID | None = None
    secret: str | None = None
    shared_region_code: str | None = Field(default=None, pattern=r"^35\d{4}$")


class NoteUpdate(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    region_code: str | None = Field(default=None, pattern=r"^35\d{4}$")  # moving a note to another county
    shared_region_code: str | None = Field(default=None, pattern=r"^35\d{4}$")


class NoteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    region_code: str
    version: int


NoteFeedPayload = feed_payload("NoteFeedPayload", NoteRead, ["id", "title", "region_code", "version"])
NOTE_FEED = FeedEntity(
    model=Note,
    payload=NoteFeedPayload,
    permission="notes:read",
    shown_by=NoteRead,
    excluded={
        "secret": "personal",
        "institution_id": "scope",
        "shared_region_code": "scope",
        "created_at": "-",
        "updated_at": "-",
    },
)

POLICY = Policy(
    {
        Role.province_admin: {"notes:read", "notes:write"},
        Role.city_admin: {"notes:read"},
        Role.county_admin: {"notes:read", "notes:write"},
        Role.institution_admin: {"notes:read"},
        Role.city_platform: {"notes:read"},
    }
)
NotesRead = Annotated[Principal, Depends(POLICY.require("notes:read"))]
NotesWrite = Annotated[Principal, Depends(POLICY.require("notes:write"))]

router = ServiceRouter(prefix="/api/v1/sample/notes", tags=["notes"])


async def _load(session: SessionDep, principal: Principal, note_id: uuid.UUID) -> Note:
    note = await session.get(Note, note_id)
    if note is None or not can_see(
        principal,
        region_code=note.region_code,
        institution_ids=[note.institution_id],
        other_region_codes=[note.shared_region_code],
    ):
        raise NotFound("笔记不存在", code="note_not_found")
    return note


@router.get("", response_model=Page[NoteRead], operation_id="sample_list_notes")
async def list_notes(
    session: SessionDep,
    principal: NotesRead,
    page: PageDep,
    title_prefix: Annotated[str | None, Query()] = None,
) -> Page[NoteRead]:
    stmt = select(Note).where(
        visible_condition(principal, [Note.region_code, Note.shared_region_code], Note.institution_id)
    )
    if title_prefix:
        stmt = stmt.where(Note.title.startswith(title_prefix))
    rows, cursor = await paginate(session, stmt, order_by=[Note.title, Note.id], params=page)
    return Page(items=[NoteRead.model_validate(r) for r in rows], next_cursor=cursor, limit=page.limit)


@router.get("/{note_id}", response_model=NoteRead, operation_id="sample_get_note")
async def get_note(
    session: SessionDep, principal: NotesRead, note_id: uuid.UUID, response: Response
) -> NoteRead:
    note = await _load(session, principal, note_id)
    set_etag(response, note.version)
    return NoteRead.model_validate(note)


@router.post(
    "",
    response_model=NoteRead,
    status_code=status.HTTP_201_CREATED,
    operation_id="sample_create_note",
    responses=problem_responses(409, 422),
)
async def create_note(
    session: SessionDep, principal: NotesWrite, data: NoteCreate, response: Response
) -> NoteRead:
    ensure_in_scope_for_write(principal, region_code=data.region_code)
    note = Note(**data.model_dump())
    session.add(note)
    await session.flush()
    audit.record(
        session,
        principal,
        action="note.create",
        entity_type="note",
        entity_id=note.id,
        changes=data.model_dump(),
        personal_fields={"secret"},
    )
    set_etag(response, note.version)
    return NoteRead.model_validate(note)


@router.patch("/{note_id}", response_model=NoteRead, operation_id="sample_update_note")
async def update_note(
    session: SessionDep,
    principal: NotesWrite,
    note_id: uuid.UUID,
    data: NoteUpdate,
    if_match: IfMatch,
    response: Response,
) -> NoteRead:
    note = await _load(session, principal, note_id)
    check_if_match(if_match, note.version)
    note.title = data.title
    if data.region_code is not None:
        note.region_code = data.region_code
    if data.shared_region_code is not None:
        note.shared_region_code = data.shared_region_code
    await session.flush()
    set_etag(response, note.version)
    return NoteRead.model_validate(note)


@router.delete("/{note_id}", status_code=status.HTTP_204_NO_CONTENT, operation_id="sample_delete_note")
async def delete_note(
    session: SessionDep, principal: NotesWrite, note_id: uuid.UUID, if_match: IfMatch
) -> None:
    note = await _load(session, principal, note_id)
    check_if_match(if_match, note.version)
    await session.delete(note)


def create_sample_app(settings: SampleSettings, verifier: TokenVerifier) -> FastAPI:
    return create_service_app(
        settings,
        title="sample",
        description="test service",
        routers=[router, change_feed_router("sample", POLICY, [NOTE_FEED], permission="notes:read")],
        verifier=verifier,
    )
