"""Key rotation without downtime, end to end.

Signing keys (services/gateway/signing.py): the new key's public JWK is published first, then it signs
while the old one stays published, then the old one goes. A service that verifies through the JWKS
accepts the new tokens at once once the key was pre-published (and refuses them for a while when it
was not — why step 1 exists), keeps accepting the old tokens during step 2, and refuses them after.

Personal-data keys (libs/common/key_rotation.py): a registry on {k1} writes records, the next on
{k1, k2} with k2 primary reads them and writes under k2, ``python -m libs.common.key_rotation registry``
moves every value to k2 (versions, ETags and the change feed untouched; a second run has nothing to
do), and a registry on {k2} alone reads everything whole and still finds a practitioner by ID number
(the blind index did not change).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from sqlalchemy import LargeBinary, func, select, text

from libs.common.auth import Role, TokenIssuer, TokenVerifier, generate_private_key_pem
from libs.common.database import Database, session_scope
from libs.common.key_rotation import encrypted_tables, is_encrypted_column, reencrypt
from libs.common.models import ChangeRecord, PlatformBase
from libs.common.personal_data import PersonalDataCipher, generate_key
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, running
from services.contracts import models as _contracts_models  # noqa: F401  (every table on its Base)
from services.contracts.base import Base as ContractsBase
from services.gateway import models as _gateway_models  # noqa: F401
from services.gateway.app import create_app as create_gateway_app
from services.gateway.base import Base as GatewayBase
from services.gateway.signing import main as signing_main
from services.gateway.signing import public_jwk_of
from services.homecare import models as _homecare_models  # noqa: F401
from services.homecare.base import Base as HomecareBase
from services.indicators import models as _indicators_models  # noqa: F401
from services.indicators.base import Base as IndicatorsBase
from services.registry import models as _registry_models  # noqa: F401
from services.registry.app import create_app as create_registry_app
from services.registry.base import Base as RegistryBase
from services.registry.settings import RegistrySettings
from services.residents import models as _residents_models  # noqa: F401
from services.residents.base import Base as ResidentsBase
from tests.cross_service.data import REGISTRY, id_number, institution_body
from tests.gateway.conftest import CONTRACTS_SECRET, gateway_settings
from tests.registry.factories import practitioner_body

REPO = Path(__file__).resolve().parents[2]
COUNTY = "350203"
JWKS_URL = "http://gateway/.well-known/jwks.json"


# Signing keys ---------------------------------------------------------------------------------------


class GatewayHop(httpx.AsyncBaseTransport):
    """The gateway as the services reach it: whichever gateway app is deployed now; counts JWKS reads."""

    def __init__(self) -> None:
        self.app: FastAPI | None = None
        self.jwks_reads = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert self.app is not None
        if request.url.path == "/.well-known/jwks.json":
            self.jwks_reads += 1
        return await httpx.ASGITransport(app=self.app).handle_async_request(request)


@asynccontextmanager
async def deployed(
    hop: GatewayHop, test_databases: TestDatabases, signing: str, published: list[str]
) -> AsyncIterator[FastAPI]:
    """A gateway signing with ``signing`` and also publishing the public keys of ``published``."""
    settings = gateway_settings(
        test_databases,
        signing_key_pem=signing,
        extra_public_jwks=[public_jwk_of(pem) for pem in published],
    )
    app = create_gateway_app(settings)
    async with running(app):
        hop.app = app
        yield app


async def _service_token(gateway: FastAPI) -> str:
    async with live_client(gateway) as client:
        response = await client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "contracts",
                "client_secret": CONTRACTS_SECRET,
                "audience": "registry",
            },
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
async def hop() -> GatewayHop:
    return GatewayHop()


@pytest.fixture
async def registry_behind(
    test_databases: TestDatabases, hop: GatewayHop
) -> AsyncIterator[tuple[FastAPI, TokenVerifier]]:
    """A registry verifying tokens with the JWKS it reads from the gateway (cached 300 s), on a database of
    its own: the shared one may hold institutions other tests committed under other keys (a list page
    decrypts them)."""
    name = f"registry_signing_{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        RegistrySettings, test_databases, database_url=test_databases.url_for(name), database_schema=name
    )
    verifier = TokenVerifier(
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        jwks_url=JWKS_URL,
        http_client=httpx.AsyncClient(transport=hop, base_url="http://gateway"),
        cache_seconds=300,
    )
    app = create_registry_app(settings, verifier=verifier)
    async with running(app):
        yield app, verifier


async def _status(registry: FastAPI, token: str) -> int:
    """What the registry answers the token (200: verified and allowed; 401: refused)."""
    async with live_client(registry) as client:
        response = await client.get(
            f"{REGISTRY}/institutions", params={"limit": 1}, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code in (200, 401), response.text
    if response.status_code == 401:
        assert response.json()["code"] == "invalid_token"
    return response.status_code


def _fresh_cache(verifier: TokenVerifier) -> None:
    """As if the service's cached JWKS had expired (instead of waiting jwks_cache_seconds)."""
    verifier._cache.fetched_at = -1e9  # noqa: SLF001


async def test_signing_key_rotation_without_downtime(
    test_databases: TestDatabases, hop: GatewayHop, registry_behind: tuple[FastAPI, TokenVerifier]
) -> None:
    registry, verifier = registry_behind
    old, new = generate_private_key_pem(), generate_private_key_pem()

    async with deployed(hop, test_databases, old, []) as gateway:
        old_token = await _service_token(gateway)
        assert await _status(registry, old_token) == 200

    # 1. the new key published beside the signing one; the services pick it up as their cache expires
    async with deployed(hop, test_databases, old, [new]) as gateway:
        keys = (await httpx.AsyncClient(transport=hop).get(JWKS_URL)).json()["keys"]
        assert [k["kid"] for k in keys] == [public_jwk_of(old)["kid"], public_jwk_of(new)["kid"]]
        assert all("d" not in k for k in keys)
        _fresh_cache(verifier)
        assert await _status(registry, await _service_token(gateway)) == 200

    # 2. the new key signs, the old one stays published: new tokens pass at once (no JWKS read needed),
    #    tokens signed before still pass
    async with deployed(hop, test_databases, new, [old]) as gateway:
        reads = hop.jwks_reads
        new_token = await _service_token(gateway)
        assert await _status(registry, new_token) == 200
        assert hop.jwks_reads == reads
        assert await _status(registry, old_token) == 200
        _fresh_cache(verifier)
        assert await _status(registry, old_token) == 200

    # 3. the old key withdrawn: once the services' cache expires, its tokens are refused
    async with deployed(hop, test_databases, new, []):
        _fresh_cache(verifier)
        assert await _status(registry, new_token) == 200
        assert await _status(registry, old_token) == 401


async def test_a_key_that_signs_before_it_was_published_is_refused_for_a_while(
    test_databases: TestDatabases, hop: GatewayHop, registry_behind: tuple[FastAPI, TokenVerifier]
) -> None:
    """Why step 1 exists: skipping it, a service that read the JWKS moments ago refuses the new tokens
    (an unknown kid is looked up again at most every 10 s)."""
    registry, verifier = registry_behind
    # 10 s in production; longer here so that a slow start of the next gateway cannot outlast it
    verifier.REFETCH_MIN_SECONDS = 120.0
    old, new = generate_private_key_pem(), generate_private_key_pem()
    async with deployed(hop, test_databases, old, []) as gateway:
        assert await _status(registry, await _service_token(gateway)) == 200
    async with deployed(hop, test_databases, new, [old]) as gateway:
        assert await _status(registry, await _service_token(gateway)) == 401


def test_extra_public_keys_must_be_public_p256_keys_named_by_their_thumbprint() -> None:
    pem = generate_private_key_pem()
    jwk = public_jwk_of(pem)
    issuer = TokenIssuer(generate_private_key_pem(), issuer="i", audience="a", extra_public_jwks=[jwk, jwk])
    assert [k["kid"] for k in issuer.jwks()["keys"]][1:] == [jwk["kid"]]  # published once
    itself = TokenIssuer(pem, issuer="i", audience="a", extra_public_jwks=[jwk])
    assert len(itself.jwks()["keys"]) == 1  # the signing key is not published twice

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    private_d = key.private_numbers().private_value.to_bytes(32, "big").hex()  # type: ignore[union-attr]
    for bad, message in (
        ({**jwk, "d": private_d}, "private key"),
        ({**jwk, "crv": "P-384"}, "EC P-256"),
        ({**jwk, "kty": "RSA"}, "EC P-256"),
        ({k: v for k, v in jwk.items() if k != "kid"}, "EC P-256"),
        ({k: v for k, v in jwk.items() if k != "y"}, "x and y"),
        ({**jwk, "kid": "renamed"}, "thumbprint"),
    ):
        with pytest.raises(ValueError, match=message):
            TokenIssuer(generate_private_key_pem(), issuer="i", audience="a", extra_public_jwks=[bad])


def test_the_public_jwk_command_prints_the_public_key_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pem = generate_private_key_pem()
    (tmp_path / "key.pem").write_text(pem)
    assert signing_main(["public-jwk", str(tmp_path / "key.pem")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == public_jwk_of(pem)
    assert "d" not in printed
    assert signing_main(["private"]) == 2


# Personal-data keys ---------------------------------------------------------------------------------

K1, K2, LOOKUP = generate_key(), generate_key(), generate_key()


@pytest.fixture
def place(test_databases: TestDatabases) -> dict[str, str]:
    """A registry database of the test's own (a file, or a schema on PostgreSQL)."""
    name = f"registry_rotation_{uuid.uuid4().hex[:8]}"
    return {"database_url": test_databases.url_for(name), "database_schema": name}


def _registry(
    test_databases: TestDatabases, place: dict[str, str], verifier: TokenVerifier, keys: dict[str, str]
) -> FastAPI:
    settings = make_settings(
        RegistrySettings,
        test_databases,
        **place,
        personal_data_keys=keys,
        personal_data_primary_key_id=list(keys)[-1],
        personal_data_lookup_key=LOOKUP,
    )
    return create_registry_app(settings, verifier=verifier)


def _admin(tokens: Tokens, institution: dict[str, Any]) -> dict[str, str]:
    return tokens.headers(
        Role.institution_admin,
        institution["region_code"],
        institution_id=uuid.UUID(institution["id"]),
        sub=f"admin:{institution['id']}",
    )


async def _write(client: httpx.AsyncClient, tokens: Tokens, phone: str) -> dict[str, Any]:
    """An institution (with an Idempotency-Key: its stored answer is encrypted too) and a nurse."""
    county = {**tokens.headers(Role.county_admin, COUNTY), "Idempotency-Key": uuid.uuid4().hex}
    body = institution_body(COUNTY, contact_phone=phone)
    response = await client.post(f"{REGISTRY}/institutions", json=body, headers=county)
    assert response.status_code == 201, response.text
    institution: dict[str, Any] = response.json()
    number = id_number(COUNTY)
    response = await client.post(
        f"{REGISTRY}/practitioners",
        json=practitioner_body(
            institution["id"], id_card=number, practice_certificate_no=uuid.uuid4().hex[:12]
        ),
        headers=_admin(tokens, institution),
    )
    assert response.status_code == 201, response.text
    return {"institution": institution, "body": body, "headers": county, "id_number": number}


async def _read(client: httpx.AsyncClient, tokens: Tokens, written: dict[str, Any]) -> dict[str, Any]:
    """The institution as its admin sees it (phone whole, ETag), the nurse found by ID number, and
    the replay of the idempotent create."""
    institution = written["institution"]
    detail = await client.get(
        f"{REGISTRY}/institutions/{institution['id']}", headers=_admin(tokens, institution)
    )
    assert detail.status_code == 200, detail.text
    found = await client.post(
        f"{REGISTRY}/practitioners/lookup",
        json={"id_number": written["id_number"]},
        headers=_admin(tokens, institution),
    )
    assert found.status_code == 200, found.text
    replay = await client.post(f"{REGISTRY}/institutions", json=written["body"], headers=written["headers"])
    assert replay.status_code == 201, replay.text
    assert replay.headers.get("idempotent-replayed") == "true"
    return {
        "phone": detail.json()["contact_phone"],
        "etag": detail.headers["etag"],
        "nurses": [(p["id_card"], p["phone"]) for p in found.json()],
        "replayed_id": replay.json()["id"],
    }


async def _key_ids(database: Database, cipher: PersonalDataCipher) -> dict[str, set[str]]:
    """The key id of every encrypted value, by table."""
    ids: dict[str, set[str]] = {}
    tables = await encrypted_tables(database)
    async with database.engine.connect() as connection:
        for table, columns in tables:
            for row in (await connection.execute(select(*columns))).all():
                ids.setdefault(table.name, set()).update(cipher.key_id_of(v) for v in row if v is not None)
    return ids


async def _feed_length(database: Database) -> int:
    async with session_scope(database, write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(ChangeRecord)) or 0)


async def _rotate_with_the_command(settings: RegistrySettings) -> dict[str, Any]:
    env = {
        **os.environ,
        "REGISTRY_DATABASE_URL": settings.database_url,
        "REGISTRY_DATABASE_SCHEMA": settings.database_schema,
        "REGISTRY_PERSONAL_DATA_KEYS": json.dumps(settings.personal_data_keys),
        "REGISTRY_PERSONAL_DATA_PRIMARY_KEY_ID": settings.personal_data_primary_key_id,
        "REGISTRY_PERSONAL_DATA_LOOKUP_KEY": settings.personal_data_lookup_key,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "libs.common.key_rotation",
        "registry",
        "--batch-size",
        "2",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return report


async def test_personal_data_key_rotation_without_downtime(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens, place: dict[str, str]
) -> None:
    try:
        # before: the registry on k1
        first = _registry(test_databases, place, token_verifier, {"k1": K1})
        async with running(first), live_client(first) as client:
            old = [await _write(client, tokens, f"1381234560{index}") for index in range(3)]
            before = [await _read(client, tokens, written) for written in old]

        # 1. k2 added and primary (rolling restart): old records read, new ones written under k2
        second = _registry(test_databases, place, token_verifier, {"k1": K1, "k2": K2})
        async with running(second), live_client(second) as client:
            assert [await _read(client, tokens, written) for written in old] == before
            new = await _write(client, tokens, "13812345699")
            database: Database = second.state.database
            cipher: PersonalDataCipher = second.state.cipher
            held = await _key_ids(database, cipher)
            assert set(held) >= {"institution", "practitioner", "idempotency_record"}
            assert set().union(*held.values()) == {"k1", "k2"}
            feed = await _feed_length(database)

            # 2. the command moves every value to k2, leaving versions and the change feed alone
            report = await _rotate_with_the_command(second.state.settings)
            assert report["primary_key_id"] == "k2"
            assert report["undecryptable"] == {}
            assert report["reencrypted"]["institution"] == 3  # the three contact phones under k1
            assert report["reencrypted"]["practitioner"] == 6  # three nurses' ID numbers and phones
            assert report["reencrypted"]["idempotency_record"] == 3
            assert set().union(*(await _key_ids(database, cipher)).values()) == {"k2"}
            assert await _feed_length(database) == feed
            assert (await reencrypt(database, cipher)).total == 0  # nothing left to do

        # 3. k1 removed: everything reads whole, lookups by ID number still find the nurses
        third = _registry(test_databases, place, token_verifier, {"k2": K2})
        async with running(third), live_client(third) as client:
            assert [await _read(client, tokens, written) for written in old] == before
            after_new = await _read(client, tokens, new)
            assert after_new["phone"] == "13812345699"
            assert len(after_new["nurses"]) == 1
    finally:
        if not test_databases.url_for("x").startswith("sqlite"):
            database = Database(make_settings(RegistrySettings, test_databases, **place))
            try:
                async with database.engine.begin() as connection:
                    await connection.execute(
                        text(f'DROP SCHEMA IF EXISTS "{place["database_schema"]}" CASCADE')
                    )
            finally:
                await database.dispose()


def test_every_binary_column_of_every_service_is_known_encrypted_or_not() -> None:
    """The command finds encrypted values by the ``_enc`` naming: a binary column that holds personal
    data under another name would be missed, so each binary column is either encrypted by that rule or
    listed here as holding no personal data."""
    not_encrypted = {("agreement_document", "content"), ("demonstration_attachment", "content")}
    for base in (
        PlatformBase,
        GatewayBase,
        RegistryBase,
        ContractsBase,
        HomecareBase,
        IndicatorsBase,
        ResidentsBase,
    ):
        for table in base.metadata.tables.values():
            for column in table.columns:
                if not isinstance(column.type, LargeBinary):
                    continue
                assert (
                    is_encrypted_column(table.name, column) or (table.name, column.name) in not_encrypted
                ), f"{table.name}.{column.name}: binary, not named *_enc — encrypted or not?"
