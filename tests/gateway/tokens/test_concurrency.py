"""Refresh-token rotation under concurrent requests that really commit (PostgreSQL only): a race on a
token family that already exists and has already rotated."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.database import Database, session_scope
from libs.common.testing import live_client
from services.gateway.tokens.models import RefreshToken
from tests.gateway.conftest import add_user, login

TOKEN = "/api/v1/auth/token"


async def _refresh_tokens_of(database: Database, user_id: uuid.UUID) -> list[RefreshToken]:
    async with session_scope(database, write=False) as session:
        return list(await session.scalars(select(RefreshToken).where(RefreshToken.user_id == user_id)))


@pytest.mark.postgres_only
async def test_concurrent_refreshes_of_an_already_rotated_family_let_exactly_one_win(
    gateway_app: FastAPI,
) -> None:
    """The family has rotated once (login → refresh); twelve refreshes with its current token at once:
    a refresh token is used once, so exactly one gets new tokens, the others are refused as reuse
    (or find the family already revoked by that reuse), and only one successor token is ever issued."""
    database: Database = gateway_app.state.database
    username = f"rotation-race-{uuid.uuid4().hex[:8]}"
    user = await add_user(database, username, Role.city_admin, "350200")
    async with live_client(gateway_app) as client:
        first = await login(client, username)
        assert first.status_code == 200, first.text
        rotated = await client.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
        )
        assert rotated.status_code == 200, rotated.text
        current = rotated.json()["refresh_token"]
        responses = await asyncio.gather(
            *(
                client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": current})
                for _ in range(12)
            )
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [401] * 11, [r.text for r in responses]
    refused = {r.json()["code"] for r in responses if r.status_code == 401}
    assert refused <= {"refresh_token_reused", "refresh_token_revoked"}, refused
    tokens = await _refresh_tokens_of(database, user.id)
    assert len(tokens) == 3, "login, the first rotation and one successor"
    assert len({t.family_id for t in tokens}) == 1
    assert sum(t.rotated_at is None for t in tokens) == 1


@pytest.mark.postgres_only
async def test_a_reuse_of_an_old_token_racing_refreshes_of_the_current_one_never_answers_500(
    gateway_app: FastAPI,
) -> None:
    """A stolen, already rotated token replayed while the owner refreshes: the reuse revokes the family
    (RFC 9700 §4.14.2), so at most one refresh wins and every other request is a clean 401."""
    database: Database = gateway_app.state.database
    username = f"reuse-race-{uuid.uuid4().hex[:8]}"
    await add_user(database, username, Role.county_admin, "350203")
    async with live_client(gateway_app) as client:
        first = await login(client, username)
        old = first.json()["refresh_token"]
        rotated = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": old})
        current = rotated.json()["refresh_token"]
        responses = await asyncio.gather(
            *(
                client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": token})
                for token in [old, current] * 6
            )
        )
        after = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": current})
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 401}, [r.text for r in responses]
    assert codes.count(200) <= 1, codes
    assert after.status_code == 401, "the family is revoked once a reuse is seen"
