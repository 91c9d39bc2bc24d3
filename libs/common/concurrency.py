"""Optimistic concurrency over HTTP: ``ETag`` carries an entity's version, ``If-Match`` must name it.

A missing ``If-Match`` on PATCH/PUT/DELETE or on a transition answers 428; a stale one 412. Two writers
that pass the check at once are still caught: the ``version`` column makes the loser's UPDATE match no
row, and SQLAlchemy's ``StaleDataError`` is rendered as 412 by the error handlers.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Header, Response

from libs.common.errors import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


async def _if_match(
    if_match: Annotated[
        str | None, Header(alias="If-Match", description="当前版本的 ETag（来自 GET 响应）")
    ] = None,
) -> str | None:
    return if_match


IfMatch = Annotated[str | None, Depends(_if_match)]


def if_match_allows(if_match: str, current_version: int) -> bool:
    """``If-Match`` names the current version: ``*``, or one of a comma-separated list of (weak) tags."""
    candidates = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    return "*" in candidates or etag(current_version) in candidates


def content_etag(body: bytes) -> str:
    """A strong ``ETag`` for a representation: a hash of its bytes (for an answer made of many rows,
    which no single version describes)."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def none_match(if_none_match: str | None, current: str) -> bool:
    """``If-None-Match`` names ``current`` (weak comparison, RFC 9110 §13.1.2; ``*`` matches): the client
    already holds it and may be answered 304."""
    if not if_none_match:
        return False
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or current in candidates


def check_if_match(if_match: str | None, current_version: int) -> None:
    if if_match is None:
        raise PreconditionRequired("修改需要携带 If-Match 头（取自 ETag）", code="if_match_required")
    if if_match_allows(if_match, current_version):
        return
    raise PreconditionFailed(
        "记录已被他人修改，请刷新后重试",
        code="version_mismatch",
        extra={"current_version": current_version, "current_etag": etag(current_version)},
    )
