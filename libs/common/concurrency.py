"""Optimistic concurrency over HTTP: ``ETag`` carries an entity's version, ``If-Match`` must name it.

A missing ``If-Match`` on PATCH/PUT/DELETE or on a transition answers 428; a stale one 412. Two writers
that pass the check at once are still caught: the ``version`` column makes the loser's UPDATE match no
row, and SQLAlchemy's ``StaleDataError`` is rendered as 412 by the error handlers.
"""

from __future__ import annotations

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
