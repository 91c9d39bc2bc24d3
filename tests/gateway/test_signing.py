"""Where the signing key comes from, and key rotation in the JWKS. (Migrations = models: tests/common.)"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from libs.common.auth import TokenIssuer, generate_private_key_pem, public_jwk
from libs.common.production import ProductionConfigError
from libs.common.testing import TestDatabases, live_client, running
from services.gateway.app import create_app
from services.gateway.signing import signing_key_pem, token_issuer
from tests.gateway.conftest import gateway_settings


def test_production_refuses_to_start_without_a_signing_key(test_databases: TestDatabases) -> None:
    settings = gateway_settings(test_databases, environment="production")
    with pytest.raises(RuntimeError, match="GATEWAY_SIGNING_KEY_PEM"):
        signing_key_pem(settings)


def test_the_app_is_not_built_in_production_without_a_key(test_databases: TestDatabases) -> None:
    with pytest.raises(ProductionConfigError, match="GATEWAY_SIGNING_KEY_PEM"):
        create_app(gateway_settings(test_databases, environment="production"))


def test_the_key_is_read_from_configuration_or_a_file(test_databases: TestDatabases, tmp_path: Path) -> None:
    pem = generate_private_key_pem()
    inline = token_issuer(gateway_settings(test_databases, environment="production", signing_key_pem=pem))
    path = tmp_path / "key.pem"
    path.write_text(pem)
    from_file = token_issuer(
        gateway_settings(test_databases, environment="production", signing_key_file=str(path))
    )
    assert inline.kid == from_file.kid


async def test_previous_public_keys_stay_published_after_a_rotation(
    test_databases: TestDatabases, token_issuer: TokenIssuer
) -> None:
    old_private = serialization.load_pem_private_key(generate_private_key_pem().encode(), password=None)
    assert isinstance(old_private, ec.EllipticCurvePrivateKey)
    old_public = public_jwk(old_private.public_key())
    settings = gateway_settings(
        test_databases, signing_key_pem=generate_private_key_pem(), extra_public_jwks=[old_public]
    )
    app = create_app(settings)
    async with running(app), live_client(app) as client:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert [k["kid"] for k in keys][1:] == [old_public["kid"]]
    assert keys[0]["kid"] != old_public["kid"]


async def test_health_and_readiness(gateway_app: object, client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": "gateway"}
    assert (await client.get("/readyz")).status_code == 200
