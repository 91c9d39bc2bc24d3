"""What the indicators tests share: waiting for the followers, the read model as plain data, and the
indicators' service token from the gateway."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import inspect, select

from libs.common.database import Database, session_scope
from services.indicators.facts.apply import FACT_MODELS

STATUS = "/api/v1/indicators/status"


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    """Wait until ``check()`` is true (followers run in the background), or fail after ``within`` s."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s")
        await asyncio.sleep(0.05)


async def service_headers(http: httpx.AsyncClient, secret: str, audience: str) -> dict[str, str]:
    """The ``Authorization`` header of a service token the gateway (``http``) issues to the indicators'
    client for ``audience``."""
    token = await http.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "indicators",
            "client_secret": secret,
            "audience": audience,
        },
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def read_model(database: Database) -> dict[str, dict[str, dict[str, Any]]]:
    """Every fact row, table → id → columns (``applied_at`` left out: it says when, not what)."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    async with session_scope(database, write=False) as session:
        for model in FACT_MODELS:
            columns = [c.key for c in inspect(model).column_attrs if c.key != "applied_at"]
            rows = (await session.scalars(select(model))).all()
            found[model.__tablename__] = {  # type: ignore[attr-defined]
                str(row.id): {key: getattr(row, key) for key in columns} for row in rows
            }
    return found


async def fact(database: Database, model: type[Any], entity_id: str) -> Any:
    """The fact row of ``entity_id`` in ``model``'s table, or None."""
    async with session_scope(database, write=False) as session:
        return await session.get(model, uuid.UUID(entity_id))
