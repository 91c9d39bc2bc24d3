"""Backup and restore of a service database (PostgreSQL): what an operator does, end to end.

Records are written through the registry's API, the database is dumped with ``pg_dump -Fc``, restored
with ``pg_restore`` into an empty new database, and the registry started on the copy without migrations
(``migrate_on_start`` off, as in production) reads the same records over HTTP — the personal data too,
which only decrypts with the same personal-data keys: a backup is restorable only with its keys.
Also: production does not migrate at start unless told to (migrations are a job there).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from libs.common.auth import Role, TokenVerifier
from libs.common.personal_data import generate_key
from libs.common.testing import (
    DEFAULT_POSTGRES_URL,
    TestDatabases,
    Tokens,
    live_client,
    make_settings,
    running,
    scratch_database,
)
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.cross_service.data import REGISTRY, institution_body

COUNTY = "350203"


def test_production_does_not_migrate_at_start_unless_told_to() -> None:
    assert RegistrySettings().migrate_on_start is True  # development: migrate at start
    assert RegistrySettings(environment="production").migrate_on_start is False
    explicit = RegistrySettings(environment="production", migrate_on_start=True)
    assert explicit.migrate_on_start is True


async def _run(*command: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (command[0], out.decode(), err.decode())


def _connection_args(url: str) -> tuple[list[str], dict[str, str]]:
    parsed = make_url(url)
    args = [
        "-h",
        parsed.host or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return [*args, "-d", str(parsed.database)], env


def _settings(
    test_databases: TestDatabases, url: str, keys: dict[str, Any], **overrides: Any
) -> RegistrySettings:
    return make_settings(RegistrySettings, test_databases, database_url=url, **keys, **overrides)


@pytest.mark.postgres_only
async def test_a_dump_restored_into_an_empty_database_serves_the_same_records(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens, tmp_path: Path
) -> None:
    server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    run_id = uuid.uuid4().hex[:8]
    keys: dict[str, Any] = {
        "personal_data_keys": {"k2026": generate_key()},
        "personal_data_primary_key_id": "k2026",
        "personal_data_lookup_key": generate_key(),
    }
    county = tokens.headers(Role.county_admin, COUNTY)
    dump = tmp_path / "registry.dump"

    async with (
        scratch_database(server, f"yyt_backup_{run_id}") as source_url,
        scratch_database(server, f"yyt_restore_{run_id}") as target_url,
    ):
        # 1. records written through the API on the source database (migrated at start)
        source = create_app(_settings(test_databases, source_url, keys), verifier=token_verifier)
        async with running(source), live_client(source) as client:
            created: list[dict[str, Any]] = []
            for index in range(3):
                body = institution_body(COUNTY, contact_phone=f"1381234567{index}")
                response = await client.post(f"{REGISTRY}/institutions", json=body, headers=county)
                assert response.status_code == 201, response.text
                created.append(response.json())
            before = await _read(client, tokens, created)

        # 2. pg_dump -Fc, then pg_restore into the empty database
        args, env = _connection_args(source_url)
        await _run("pg_dump", "-Fc", "--no-owner", "-f", str(dump), *args, env=env)
        assert dump.stat().st_size > 0
        args, env = _connection_args(target_url)
        await _run("pg_restore", "--no-owner", "--exit-on-error", *args, str(dump), env=env)

        # 3. the service on the copy, without migrations, reads the same records
        target = create_app(
            _settings(test_databases, target_url, keys, migrate_on_start=False), verifier=token_verifier
        )
        async with running(target), live_client(target) as client:
            after = await _read(client, tokens, created)
            # and keeps writing: the sequences came back with the data
            response = await client.post(
                f"{REGISTRY}/institutions", json=institution_body(COUNTY), headers=county
            )
            assert response.status_code == 201, response.text
        assert after == before
        assert [item["contact_phone"] for item in after["whole"]] == [
            f"1381234567{index}" for index in range(3)
        ]

        # 4. the same copy with other personal-data keys cannot show the personal data
        other_keys: dict[str, Any] = {
            "personal_data_keys": {"k2027": generate_key()},
            "personal_data_primary_key_id": "k2027",
            "personal_data_lookup_key": generate_key(),
        }
        stranger = create_app(
            _settings(test_databases, target_url, other_keys, migrate_on_start=False),
            verifier=token_verifier,
        )
        async with running(stranger), live_client(stranger) as client:
            institution = created[0]
            response = await client.get(
                f"{REGISTRY}/institutions/{institution['id']}", headers=_admin(tokens, institution)
            )
            assert response.status_code >= 500


def _admin(tokens: Tokens, institution: dict[str, Any]) -> dict[str, str]:
    return tokens.headers(
        Role.institution_admin,
        institution["region_code"],
        institution_id=uuid.UUID(institution["id"]),
        sub=f"admin:{institution['id']}",
    )


async def _read(client: httpx.AsyncClient, tokens: Tokens, created: list[dict[str, Any]]) -> dict[str, Any]:
    """Each institution as its own admin sees it (personal data whole) and the county's list."""
    whole = []
    for institution in created:
        response = await client.get(
            f"{REGISTRY}/institutions/{institution['id']}", headers=_admin(tokens, institution)
        )
        assert response.status_code == 200, response.text
        whole.append(response.json())
    listed = await client.get(
        f"{REGISTRY}/institutions", params={"limit": 200}, headers=tokens.headers(Role.county_admin, COUNTY)
    )
    assert listed.status_code == 200, listed.text
    ids = {institution["id"] for institution in created}
    return {"whole": whole, "listed": [item for item in listed.json()["items"] if item["id"] in ids]}
