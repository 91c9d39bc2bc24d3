"""``Idempotency-Key`` on POST: a replay returns the first response; a reuse with another body is 422.

The first response is stored in the same transaction as the write it reports (the route class adds the
record to the request's session before the session dependency commits), so a write and its record
commit together or not at all. It is stored encrypted with the service's personal-data key: an answer
may hold personal data shown whole to the serving institution. Two concurrent requests with one key:
the loser's insert of the record violates the unique key, its transaction is rolled back whole, and it
answers the winner's response.

Records are kept ``IDEMPOTENCY_RETENTION_DAYS`` (7 by default) and then pruned
(:mod:`libs.common.retention`): a retry with a key older than that is treated as a new request.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import TokenVerifier
from libs.common.cached_routes import EarlyCacheHitsRoute
from libs.common.database import Database
from libs.common.errors import DomainError, Unprocessable, problem_response
from libs.common.models import IdempotencyRecord
from libs.common.personal_data import PersonalDataCipher

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
_STORED_HEADERS = ("content-type", "etag", "location")


def _request_hash(request: Request, body: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.url.path.encode())
    digest.update(request.url.query.encode())
    digest.update(b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _caller(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(header[7:].strip())
    except DomainError:
        return None  # the route's own auth dependency answers 401
    return principal.sub


async def _find(database: Database, sub: str, key: str) -> IdempotencyRecord | None:
    async with database.session(write=False) as session:
        return await session.scalar(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal_sub == sub, IdempotencyRecord.key == key
            )
        )


async def _winner_after_failure(
    request: Request, database: Database, sub: str, key: str
) -> IdempotencyRecord | None:
    winner = await _find(database, sub, key)
    session: AsyncSession | None = getattr(request.state, "db_session", None)
    if winner is not None and session is not None:
        await session.rollback()
    return winner


def _replay(record: IdempotencyRecord, request_hash: str, cipher: PersonalDataCipher) -> Response:
    if record.request_hash != request_hash:
        raise Unprocessable("同一 Idempotency-Key 已用于内容不同的请求", code="idempotency_key_reused")
    headers = {**record.response_headers, REPLAY_HEADER: "true"}
    body = cipher.decrypt(record.response_body).encode("utf-8")
    return Response(content=body, status_code=record.status_code, headers=headers)


class IdempotentRoute(EarlyCacheHitsRoute):
    """Route class for every service router: honours ``Idempotency-Key`` on POST (and reads query models
    in one pass: :mod:`libs.common.query_models`; answers marked routes' cached pages early:
    :mod:`libs.common.cached_routes`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        if "POST" not in (self.methods or set()):
            return original

        async def handler(request: Request) -> Response:
            key = request.headers.get(HEADER)
            if key is None:
                return await original(request)
            if not _KEY_PATTERN.match(key):
                return problem_response(
                    status=422,
                    title="Unprocessable Content",
                    code="invalid_idempotency_key",
                    detail="Idempotency-Key 须为 1–200 个可见 ASCII 字符",
                    instance=request.url.path,
                )
            sub = await _caller(request)
            if sub is None:
                return await original(request)
            database: Database = request.app.state.database
            cipher: PersonalDataCipher = request.app.state.cipher
            request_hash = _request_hash(request, await request.body())
            existing = await _find(database, sub, key)
            if existing is not None:
                return _replay(existing, request_hash, cipher)

            try:
                response = await original(request)
            except Exception:
                # A twin with the same key may have won a race on a domain constraint: answer with its
                # response rather than with our conflict.
                winner = await _winner_after_failure(request, database, sub, key)
                if winner is None:
                    raise
                return _replay(winner, request_hash, cipher)
            session: AsyncSession | None = getattr(request.state, "db_session", None)
            body = getattr(response, "body", None)
            if not 200 <= response.status_code < 300:
                winner = await _winner_after_failure(request, database, sub, key)
                return response if winner is None else _replay(winner, request_hash, cipher)
            if session is None or not isinstance(body, bytes):
                return response
            session.add(
                IdempotencyRecord(
                    principal_sub=sub,
                    key=key,
                    method=request.method,
                    path=request.url.path,
                    request_hash=request_hash,
                    status_code=response.status_code,
                    response_headers={
                        k: v for k, v in response.headers.items() if k.lower() in _STORED_HEADERS
                    },
                    # encrypted: a stored answer may hold personal data shown to the serving institution
                    response_body=cipher.encrypt(body.decode("utf-8")),
                )
            )
            try:
                await session.flush()
            except IntegrityError:
                # A concurrent request with the same key committed first: undo ours, answer theirs.
                await session.rollback()
                winner = await _find(database, sub, key)
                if winner is None:
                    raise
                return _replay(winner, request_hash, cipher)
            return response

        return handler
