"""The name-search grams follow bulk writes: rewritten for a new or renamed institution only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select

from libs.common.testing import Tokens
from services.registry.institutions.name_search import InstitutionNameGram
from tests.registry.institutions.test_bulk_upsert import BULK, platform, record


def pairs_and_characters(name: str) -> set[str]:
    """The rule of the index (name_search's module docstring): each character and each pair of
    neighbouring characters, white space left out."""
    text = "".join(name.split()).lower()
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


async def stored_grams(app: FastAPI, institution_id: str) -> set[str]:
    async with app.state.database.session(write=False) as session:
        stmt = select(InstitutionNameGram.gram).where(
            InstitutionNameGram.institution_id == uuid.UUID(institution_id)
        )
        return set(await session.scalars(stmt))


@contextmanager
def gram_writes(app: FastAPI) -> Iterator[list[str]]:
    """The statements that write ``institution_name_gram`` (first word: INSERT, DELETE)."""
    writes: list[str] = []
    engine = app.state.database.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        words = statement.split()
        if words[0] in ("INSERT", "DELETE", "UPDATE") and "institution_name_gram" in words[:3]:
            writes.append(words[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield writes
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_an_update_that_keeps_the_name_rewrites_no_gram(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    records = [record(f"G{i}") for i in range(3)]
    batch = {"source_system": "grams", "records": records}
    with gram_writes(registry_app) as created_writes:
        created = await client.post(BULK, json=batch, headers=platform(tokens))
    assert created.json()["counts"]["created"] == 3, created.text
    assert created_writes == ["INSERT"]  # new institutions have no grams to delete
    ids = [result["id"] for result in created.json()["results"]]
    for item in records:
        item["address"] = "厦门市湖里区新址路8号"
    with gram_writes(registry_app) as updated_writes:
        updated = await client.post(BULK, json=batch, headers=platform(tokens))
    assert updated.json()["counts"]["updated"] == 3, updated.text
    assert updated_writes == []
    for item, institution_id in zip(records, ids, strict=True):
        assert await stored_grams(registry_app, institution_id) == pairs_and_characters(item["name"])


async def test_a_renamed_institution_gets_the_grams_of_its_new_name_only(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    records = [record("H1"), record("H2")]
    batch = {"source_system": "grams", "records": records}
    created = await client.post(BULK, json=batch, headers=platform(tokens))
    assert created.json()["counts"]["created"] == 2, created.text
    kept_id, renamed_id = (result["id"] for result in created.json()["results"])
    records[0]["address"] = "厦门市湖里区新址路9号"
    records[1]["name"] = "鼓浪屿 改名护理院"
    with gram_writes(registry_app) as writes:
        updated = await client.post(BULK, json=batch, headers=platform(tokens))
    assert [r["outcome"] for r in updated.json()["results"]] == ["updated", "updated"], updated.text
    assert writes == ["DELETE", "INSERT"]
    assert await stored_grams(registry_app, renamed_id) == pairs_and_characters("鼓浪屿改名护理院")
    assert await stored_grams(registry_app, kept_id) == pairs_and_characters(records[0]["name"])
    found = await client.get("/api/v1/registry/institutions", params={"q": "改名"}, headers=platform(tokens))
    assert [item["id"] for item in found.json()["items"]] == [renamed_id]
