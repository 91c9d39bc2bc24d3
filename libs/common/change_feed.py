"""``GET /api/v1/{service}/changes?after=CURSOR&limit=N``: the service's change feed, in commit order.

A client that starts with no cursor and applies every entry (``upsert`` with its ``data``, ``delete`` as a
tombstone) ends with the server's state, for its scope, of the entity types it may list; ``next_cursor`` is
always returned so that it can resume where it stopped.

A feed is a public contract. Each entity type is declared by a :class:`~libs.common.changes.FeedEntity`:
its payload model (an allow-list, versioned by ``schema_version``) and the permission of its list
endpoint. An entry reaches a reader only if the reader holds that permission (the same check as the list
endpoint) and the entry lies in the reader's scope (its region or its other region, e.g. an agreement's
two parties' counties); ``data`` is re-projected onto the payload model when
read, so a field dropped from the allow-list is never served, even from entries written before. The
OpenAPI document describes each type's entry (a union discriminated by ``entity_type``).

``entity_types=a,b`` subscribes to a subset. An unknown type answers 422 ``unknown_entity_type``; a type
the reader may not list answers 403 ``entity_type_forbidden`` (explicit rather than silently empty, so a
misconfigured consumer learns it at once). Without the parameter a reader gets every type it may list.
"""

# No `from __future__ import annotations` here: the route below closes over `reader`, and FastAPI must
# evaluate its annotation at definition time.

import base64
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from fastapi import Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, create_model
from sqlalchemy import select

from libs.common.access import Policy
from libs.common.auth import Principal
from libs.common.changes import FeedEntity
from libs.common.database import SessionDep
from libs.common.errors import Forbidden, Unprocessable, problem_responses
from libs.common.models import ChangeRecord
from libs.common.openapi import enum_labels
from libs.common.routing import ServiceRouter
from libs.common.scope import visible_condition


class ChangeEntry(BaseModel):
    """What every entry has; each entity type's entry adds ``entity_type``, ``schema_version``, ``data``."""

    seq: int
    entity_id: uuid.UUID
    op: Literal["upsert", "delete"] = Field(
        description="upsert：新增或修改，data 为实体当前状态；delete：已删除或已移出调用方的可见范围",
        json_schema_extra=enum_labels({"upsert": "新增或修改", "delete": "删除或移出可见范围"}),
    )
    version: int | None
    region_code: str | None
    changed_at: datetime


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _entry_model(service: str, entity: FeedEntity) -> type[ChangeEntry]:
    fields: dict[str, Any] = {
        "entity_type": (Literal[entity.entity_type], Field(description="实体类型")),
        "schema_version": (
            Literal[entity.schema_version],
            Field(description="data 的结构版本；结构不兼容地变化时加一"),
        ),
        "data": (
            entity.payload | None,
            Field(description="实体当前状态（op=delete 时为空）：列表接口所示字段的白名单，不含个人敏感信息"),
        ),
    }
    model: type[ChangeEntry] = create_model(
        f"{_pascal(service)}{_pascal(entity.entity_type)}Change", __base__=ChangeEntry, **fields
    )
    return model


def _page_model(service: str, entities: Sequence[FeedEntity]) -> type[BaseModel]:
    entries = tuple(_entry_model(service, entity) for entity in entities)
    item: Any = (
        Annotated[Union[entries], Field(discriminator="entity_type")]  # noqa: UP007
        if len(entries) > 1
        else entries[0]
    )
    page: type[BaseModel] = create_model(
        f"{_pascal(service)}ChangeFeedPage",
        items=(list[item], ...),
        next_cursor=(str, Field(description="下一次请求的 after 参数")),
        has_more=(bool, ...),
    )
    return page


def encode_seq_cursor(seq: int) -> str:
    """The opaque cursor of a position ``seq`` in a log numbered in commit order (the change feed's, a
    service's event log)."""
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).rstrip(b"=").decode()


def decode_seq_cursor(cursor: str | None) -> int:
    """The position of a cursor made by :func:`encode_seq_cursor` (0 for none); anything else is 422
    ``invalid_cursor``."""
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, number = raw.partition(":")
        # plain ASCII digits within BIGINT: int() alone takes "1_0", " 7", other scripts' digits, 10**30
        if prefix != "seq" or not (number.isascii() and number.isdigit()) or int(number) > 2**63 - 1:
            raise ValueError(raw)
        return int(number)
    except (ValueError, UnicodeError) as exc:
        raise Unprocessable("变更游标无效", code="invalid_cursor") from exc


def _requested(raw: str | None, entities: dict[str, FeedEntity]) -> list[str] | None:
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = sorted(set(names) - set(entities))
    if unknown or not names:
        raise Unprocessable(
            f"未知的实体类型：{'、'.join(unknown) or '（空）'}；可订阅：{'、'.join(entities)}",
            code="unknown_entity_type",
            extra={"unknown": unknown, "known": list(entities)},
        )
    return names


async def _holds(check: Callable[[Principal], Awaitable[Principal]], principal: Principal) -> bool:
    try:
        await check(principal)
    except Forbidden:
        return False
    return True


def change_feed_router(
    service: str,
    policy: Policy,
    entities: Sequence[FeedEntity],
    *,
    permission: str = "changes:read",
) -> ServiceRouter:
    """The feed of ``service``'s ``entities``, for readers holding ``permission`` in ``policy``."""
    router = ServiceRouter(prefix=f"/api/v1/{service}", tags=[f"{service}-changes"])
    by_type = {entity.entity_type: entity for entity in entities}
    # The very checks of the list endpoints (``policy.require``), so a feed reader gets what its lists give.
    list_checks = {entity.entity_type: policy.require(entity.permission) for entity in entities}
    reader = policy.require(permission)
    page_model = _page_model(service, entities)
    types_doc = "、".join(f"{e.entity_type}（需 {e.permission}）" for e in entities)

    @router.get(
        "/changes",
        summary="变更订阅（按提交顺序）",
        description=(
            "只返回调用方有权列出的实体类型（与各列表接口同一权限）与其管辖范围内的变更；"
            f"data 为各类型声明的字段白名单（见 schema_version）。实体类型：{types_doc}。"
        ),
        operation_id=f"{service}_list_changes",
        response_model=page_model,
        responses=problem_responses(401, 403, 422),
    )
    async def list_changes(
        session: SessionDep,
        principal: Annotated[Principal, Depends(reader)],
        after: Annotated[str | None, Query(max_length=200, description="上次返回的 next_cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
        entity_types: Annotated[
            str | None,
            Query(
                max_length=500,
                description=(
                    "只订阅这些实体类型（逗号分隔）；未知类型 422，无权列出的类型 403；缺省为全部可读类型"
                ),
                examples=["institution,filing"],
            ),
        ] = None,
    ) -> Any:
        after_seq = decode_seq_cursor(after)
        readable = [name for name, check in list_checks.items() if await _holds(check, principal)]
        requested = _requested(entity_types, by_type)
        if requested is not None:
            refused = [name for name in requested if name not in readable]
            if refused:
                raise Forbidden(
                    f"无权订阅以下实体类型：{'、'.join(refused)}",
                    code="entity_type_forbidden",
                    extra={"entity_types": refused},
                )
            readable = requested
        rows: list[ChangeRecord] = []
        if readable:
            stmt = (
                select(ChangeRecord)
                .where(
                    ChangeRecord.seq > after_seq,
                    ChangeRecord.entity_type.in_(readable),
                    visible_condition(
                        principal,
                        [ChangeRecord.region_code, ChangeRecord.other_region_code],
                        [ChangeRecord.institution_id, ChangeRecord.other_institution_id],  # type: ignore[list-item]
                    ),
                )
                .order_by(ChangeRecord.seq)
                .limit(limit + 1)
            )
            rows = list((await session.scalars(stmt)).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        items = [_entry(row, by_type[row.entity_type]) for row in rows]
        last = rows[-1].seq if rows else after_seq
        # the entries are JSON values already (_entry): no jsonable_encoder walk over every value of
        # every payload, which was half of a page's CPU (issue 19: ~117,000 residents entries of the demo)
        return JSONResponse({"items": items, "next_cursor": encode_seq_cursor(last), "has_more": has_more})

    return router


def _entry(row: ChangeRecord, entity: FeedEntity) -> dict[str, Any]:
    """The entry as JSON values: the stored payload is JSON already (a JSON column), the id and the time
    are written as FastAPI's encoder writes them (``str``, ``isoformat``)."""
    stored = row.payload
    data = None if stored is None else {k: stored[k] for k in entity.payload.model_fields if k in stored}
    return {
        "seq": row.seq,
        "entity_type": row.entity_type,
        "entity_id": str(row.entity_id),
        "op": row.op,
        "version": row.entity_version,
        "region_code": row.region_code,
        "changed_at": row.changed_at.isoformat(),
        "schema_version": entity.schema_version,
        "data": data,
    }
