"""``python -m tests.registry.institutions.another_replica URL NAME KEYS``: another registry process on
the database ``URL`` creates an institution named ``NAME`` through its own API (a commit this test
process never made) and prints its id. ``KEYS``: the personal-data settings as JSON (the test app's: a
test app makes keys of its own otherwise). For tests/registry/institutions/test_head_probe.py."""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from libs.common.auth import Role, TokenIssuer, TokenVerifier, generate_private_key_pem
from libs.common.testing import (
    TEST_AUDIENCE,
    TEST_ISSUER,
    TestDatabases,
    Tokens,
    live_client,
    make_settings,
    running,
)
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.registry.factories import INSTITUTIONS, institution_body


async def create(url: str, name: str, keys: dict[str, Any]) -> str:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    with tempfile.TemporaryDirectory() as root:
        databases = TestDatabases(Path(root), None)
        settings = make_settings(
            RegistrySettings, databases, database_url=url, migrate_on_start=False, **keys
        )
        verifier = TokenVerifier(issuer=TEST_ISSUER, audience=TEST_AUDIENCE, static_jwks=issuer.jwks())
        app = create_app(settings, verifier=verifier)
        async with running(app), live_client(app) as client:
            body = institution_body(name=name)
            headers = Tokens(issuer).headers(Role.county_admin, body["region_code"])
            response = await client.post(INSTITUTIONS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


if __name__ == "__main__":
    print(asyncio.run(create(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))))
