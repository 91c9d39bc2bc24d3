"""Who reads what in a service's change feed: write one record of every tracked entity type through the
feed's write path, then read the feed over HTTP as each kind of reader.

The records are transient ORM objects passed to ``changes.track`` (the path bulk writers take), with every
sensitive attribute set to a marker, so a test can assert that no marker ever reaches a reader.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from libs.common import changes
from libs.common.changes import FeedEntity

SECRET = "SECRET-不应出现在订阅中"


async def write_one_of_each(
    app: FastAPI, feed: list[FeedEntity], attrs: Mapping[str, dict[str, Any]]
) -> set[str]:
    """Track one record per entity type of ``feed`` (attributes from ``attrs``), commit; their ids."""
    assert set(attrs) == {entity.entity_type for entity in feed}, "the test must write every entity type"
    ids: set[str] = set()
    async with app.state.database.session() as session:
        for entity in feed:
            record = entity.model(id=uuid.uuid4(), version=1, **attrs[entity.entity_type])  # type: ignore[call-arg]
            changes.track(session, record)
            ids.add(str(record.id))  # type: ignore[attr-defined]
        await changes.write_pending_changes(session)
        await session.commit()
    return ids


def types_seen(entries: list[dict[str, Any]], ids: set[str]) -> set[str]:
    return {entry["entity_type"] for entry in entries if entry["entity_id"] in ids}


async def read_feed(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: str
) -> tuple[int, list[dict[str, Any]]]:
    """(status, every entry) reading ``path`` from the start; stops at the first non-200 answer."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query: dict[str, str | int] = {"limit": 1000, **params, **({"after": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        if response.status_code != 200:
            return response.status_code, items
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return 200, items


def assert_only_list_fields(
    entries: list[dict[str, Any]], shown_by: Mapping[str, type[BaseModel]], nested: Mapping[str, set[str]]
) -> None:
    """Every payload holds only fields its list schema shows (``nested``: fields the list shows inside an
    object or under a parent's path), and no marker of sensitive data appears anywhere."""
    for entry in entries:
        data = entry["data"] or {}
        allowed = set(shown_by[entry["entity_type"]].model_fields) | nested.get(entry["entity_type"], set())
        assert set(data) <= allowed, (entry["entity_type"], set(data) - allowed)
        assert isinstance(entry["schema_version"], int)
    assert SECRET not in json.dumps(entries, ensure_ascii=False)
