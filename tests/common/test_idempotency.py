"""Idempotency-Key on POST: replays, reuse with another body, concurrent twins."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.models import IdempotencyRecord
from libs.common.testing import Tokens, live_client

NOTES = "/api/v1/sample/notes"


async def test_replay_returns_the_first_response_and_creates_nothing(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = {**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": "k-1"}
    body = {"title": "once", "region_code": "350206"}
    first = await client.post(NOTES, json=body, headers=headers)
    replay = await client.post(NOTES, json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.headers["etag"] == first.headers["etag"]
    listed = await client.get(NOTES, params={"title_prefix": "once"}, headers=headers)
    assert len(listed.json()["items"]) == 1


async def test_reusing_a_key_with_another_body_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = {**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": "k-2"}
    await client.post(NOTES, json={"title": "a", "region_code": "350206"}, headers=headers)
    reused = await client.post(NOTES, json={"title": "b", "region_code": "350206"}, headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


async def test_keys_belong_to_their_caller(client: httpx.AsyncClient, tokens: Tokens) -> None:
    body = {"title": "x-caller", "region_code": "350206"}
    a = await client.post(
        NOTES, json=body, headers={**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": "same"}
    )
    b = await client.post(
        NOTES,
        json={"title": "y-caller", "region_code": "350206"},
        headers={**tokens.headers(Role.province_admin, "350000"), "Idempotency-Key": "same"},
    )
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


async def test_failed_requests_are_not_stored(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = {**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": "k-3"}
    bad = await client.post(NOTES, json={"title": "", "region_code": "350206"}, headers=headers)
    assert bad.status_code == 422
    good = await client.post(NOTES, json={"title": "", "region_code": "350206"}, headers=headers)
    assert good.status_code == 422
    assert "idempotent-replayed" not in good.headers


async def test_malformed_key_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = {**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": "x" * 201}
    response = await client.post(NOTES, json={"title": "k", "region_code": "350206"}, headers=headers)
    assert (response.status_code, response.json()["code"]) == (422, "invalid_idempotency_key")


async def test_concurrent_twins_create_one_record(sample_app: FastAPI, tokens: Tokens) -> None:
    key = uuid.uuid4().hex
    title = f"twin-{key}"
    headers = {**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": key}
    async with live_client(sample_app) as client:
        responses = await asyncio.gather(
            *(
                client.post(NOTES, json={"title": title, "region_code": "350206"}, headers=headers)
                for _ in range(4)
            )
        )
        listed = await client.get(NOTES, params={"title_prefix": title}, headers=headers)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(listed.json()["items"]) == 1


async def test_stored_answers_are_encrypted_at_rest(sample_app: FastAPI, tokens: Tokens) -> None:
    key = uuid.uuid4().hex
    secret_title = f"stored-{key}"
    headers = {**tokens.headers(Role.county_admin, "350206"), "Idempotency-Key": key}
    async with live_client(sample_app) as client:
        created = await client.post(
            NOTES, json={"title": secret_title, "region_code": "350206"}, headers=headers
        )
        assert created.status_code == 201
        replay = await client.post(
            NOTES, json={"title": secret_title, "region_code": "350206"}, headers=headers
        )
        assert replay.json() == created.json()
    async with sample_app.state.database.session(write=False) as session:
        stored = await session.scalar(
            select(IdempotencyRecord.response_body).where(IdempotencyRecord.key == key)
        )
    assert stored is not None
    assert secret_title.encode() not in stored
