"""A cached institution list on SQLite is never answered after a commit made elsewhere (issue 16s).

The registry on a SQLite file of its own, with real commits (:func:`live_client`, not the rolled-back
client, whose head is read on the test's connection): the list's hits are answered early without reading
the change feed's head (``Database.feed_head`` asks the probe's ``PRAGMA data_version``:
libs/common/feed_head.py), and after a commit of the app's own write engine, of another registry process
on the same file (tests/registry/institutions/another_replica.py), or a checkpoint, the next GET is
made afresh with the new row (or is the same page). A probe trusted without its data_version would
answer the cached page without the new row.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from libs.common.auth import Role, TokenVerifier
from libs.common.feed_head import _head_in_thread
from libs.common.personal_data import generate_key
from libs.common.response_cache import OUTCOME_HEADER
from libs.common.testing import TestDatabases, Tokens, backend, live_client, make_settings, running
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.registry.factories import INSTITUTIONS, create_institution

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="the head probe is SQLite's")

REPO = Path(__file__).resolve().parents[3]
QUERY = {"limit": 50}
#: personal-data keys shared with the other process (a test app makes its own otherwise)
KEYS: dict[str, Any] = {
    "personal_data_keys": {"probe1": generate_key()},
    "personal_data_lookup_key": generate_key(),
}


@pytest.fixture(scope="module")
async def app(
    tmp_path_factory: pytest.TempPathFactory, test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('probe') / 'registry.db'}"
    settings = make_settings(RegistrySettings, test_databases, database_url=url, **KEYS)
    app = create_app(settings, verifier=token_verifier)
    async with running(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with live_client(app) as client:
        yield client


@pytest.fixture
def head_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How often the head's statement went to aiosqlite's thread (one counter, reset by the test)."""
    reads = [0]
    execute: Any = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is _head_in_thread:
            reads[0] += 1
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return reads


def county(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.county_admin, "350206")


async def listed(client: httpx.AsyncClient, tokens: Tokens) -> tuple[str, bytes, set[str]]:
    response = await client.get(INSTITUTIONS, params=QUERY, headers=county(tokens))
    assert response.status_code == 200, response.text
    ids = {item["id"] for item in response.json()["items"]}
    return response.headers[OUTCOME_HEADER], response.content, ids


async def cached(client: httpx.AsyncClient, tokens: Tokens, head_reads: list[int]) -> bytes:
    """The page asked until it is a hit, then twice more: hits without a head read."""
    for _ in range(3):
        outcome, page, _ids = await listed(client, tokens)
        if outcome == "hit":
            break
    assert outcome == "hit"
    head_reads[0] = 0
    for _ in range(2):
        assert (await listed(client, tokens))[:2] == ("hit", page)
    assert head_reads[0] == 0, "a hit read the head although nothing was committed"
    return page


def database_path(app: FastAPI) -> str:
    return str(make_url(app.state.database.settings.database_url).database)


async def test_a_commit_of_the_apps_own_write_engine_is_a_miss_with_the_new_row(
    client: httpx.AsyncClient, tokens: Tokens, head_reads: list[int]
) -> None:
    await create_institution(client, tokens, name="探针测试本进程护理院")
    before = await cached(client, tokens, head_reads)
    created = await create_institution(client, tokens, name="探针测试本进程二护理院")
    outcome, page, ids = await listed(client, tokens)
    assert (outcome, created["id"] in ids) == ("miss", True)
    assert page != before
    await cached(client, tokens, head_reads)


async def test_a_commit_of_another_process_is_a_miss_with_the_new_row(
    client: httpx.AsyncClient, tokens: Tokens, head_reads: list[int], app: FastAPI
) -> None:
    await create_institution(client, tokens, name="探针测试他进程前护理院")
    before = await cached(client, tokens, head_reads)
    url = app.state.database.settings.database_url
    name = "探针测试他进程护理院"
    replica = "tests.registry.institutions.another_replica"
    command = [sys.executable, "-m", replica, url, name, json.dumps(KEYS)]
    done = await asyncio.to_thread(subprocess.run, command, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    created = done.stdout.strip().splitlines()[-1]
    outcome, page, ids = await listed(client, tokens)
    assert (outcome, created in ids) == ("miss", True)
    assert page != before
    assert (await cached(client, tokens, head_reads)) == page


def _checkpoint(path: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # not busy
    finally:
        connection.close()


async def test_a_checkpoint_keeps_the_page_and_the_next_commit_is_seen(
    client: httpx.AsyncClient, tokens: Tokens, head_reads: list[int], app: FastAPI
) -> None:
    await create_institution(client, tokens, name="探针测试检查点前护理院")
    before = await cached(client, tokens, head_reads)
    await asyncio.to_thread(_checkpoint, database_path(app))
    assert (await listed(client, tokens))[:2] == ("hit", before)  # the same head, read again or not
    created = await create_institution(client, tokens, name="探针测试检查点后护理院")  # into the new WAL
    outcome, _page, ids = await listed(client, tokens)
    assert (outcome, created["id"] in ids) == ("miss", True)
