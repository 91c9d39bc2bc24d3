"""Two writers with the same If-Match at once: one wins, the other gets 412 (real commits)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens, live_client
from tests.registry.factories import INSTITUTIONS, institution_body


async def test_concurrent_updates_one_wins_the_other_gets_412(registry_app: FastAPI, tokens: Tokens) -> None:
    headers = tokens.headers(Role.county_admin, "350982")
    async with live_client(registry_app) as client:
        created = await client.post(
            INSTITUTIONS,
            json=institution_body(name="并发测试福鼎护理院", region_code="350982", lat=27.32, lng=120.21),
            headers=headers,
        )
        assert created.status_code == 201, created.text
        url = f"{INSTITUTIONS}/{created.json()['id']}"
        first, second = await asyncio.gather(
            client.patch(url, json={"beds_elderly_care": 130}, headers={**headers, "If-Match": '"1"'}),
            client.patch(url, json={"beds_elderly_care": 140}, headers={**headers, "If-Match": '"1"'}),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 412]
        winner = first if first.status_code == 200 else second
        final = await client.get(url, headers=headers)
        assert final.json()["version"] == 2
        assert final.json()["beds_elderly_care"] == winner.json()["beds_elderly_care"]
