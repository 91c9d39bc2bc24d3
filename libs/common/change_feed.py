"""``GET /api/v1/{service}/changes?after=CURSOR&limit=N``: the service's change feed, in commit order.

A client that starts with no cursor and applies every entry (``upsert`` with its ``data``, ``delete`` as a
tombstone) ends with the server's state for its scope; ``next_cursor`` is always returned so that it can
resume where it stopped.
"""

# No `from __future__ import annotations` here: the route below closes over `reader`, and FastAPI must
# evaluate its annotation at definition time.

import base64
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from libs.common.auth import Principal
from libs.common.database import SessionDep
from libs.common.errors import Unprocessable, problem_responses
from libs.common.models import ChangeRecord
from libs.common.openapi import enum_labels
from libs.common.routing import ServiceRouter
from libs.common.scope import visible_condition


class ChangeEntry(BaseModel):
    seq: int
    entity_type: str
    entity_id: uuid.UUID
    op: Literal["upsert", "delete"] = Field(
        description="upsert：新增或修改，data 为实体当前状态；delete：已删除或已移出调用方的可见范围",
        json_schema_extra=enum_labels({"upsert": "新增或修改", "delete": "删除或移出可见范围"}),
    )
    version: int | None
    region_code: str | None
    changed_at: datetime
    data: dict[str, Any] | None = Field(description="实体当前状态（op=delete 时为空）；不含个人敏感信息")


class ChangeFeedPage(BaseModel):
    items: list[ChangeEntry]
    next_cursor: str = Field(description="下一次请求的 after 参数")
    has_more: bool


def _encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).rstrip(b"=").decode()


def _decode(cursor: str | None) -> int:
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


def change_feed_router(service: str, reader: Callable[..., Awaitable[Principal]]) -> ServiceRouter:
    router = ServiceRouter(prefix=f"/api/v1/{service}", tags=[f"{service}-changes"])

    @router.get(
        "/changes",
        summary="变更订阅（按提交顺序）",
        operation_id=f"{service}_list_changes",
        response_model=ChangeFeedPage,
        responses=problem_responses(401, 403, 422),
    )
    async def list_changes(
        session: SessionDep,
        principal: Annotated[Principal, Depends(reader)],
        after: Annotated[str | None, Query(max_length=200, description="上次返回的 next_cursor")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> ChangeFeedPage:
        after_seq = _decode(after)
        stmt = (
            select(ChangeRecord)
            .where(
                ChangeRecord.seq > after_seq,
                visible_condition(
                    principal,
                    ChangeRecord.region_code,  # type: ignore[arg-type]
                    [ChangeRecord.institution_id, ChangeRecord.other_institution_id],  # type: ignore[list-item]
                ),
            )
            .order_by(ChangeRecord.seq)
            .limit(limit + 1)
        )
        rows = list((await session.scalars(stmt)).all())
        has_more = len(rows) > limit
        rows = rows[:limit]
        items = [
            ChangeEntry(
                seq=row.seq,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                op=row.op,
                version=row.entity_version,
                region_code=row.region_code,
                changed_at=row.changed_at,
                data=row.payload,
            )
            for row in rows
        ]
        last = rows[-1].seq if rows else after_seq
        return ChangeFeedPage(items=items, next_cursor=_encode(last), has_more=has_more)

    return router
