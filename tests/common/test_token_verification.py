"""Every service verifies tokens itself: pinned ES256, known kid, required claims, JWKS over HTTP."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from jose import jwt

from libs.common.auth import Role, TokenIssuer, TokenVerifier, generate_private_key_pem
from libs.common.errors import ServiceUnavailable, Unauthorized
from libs.common.testing import TEST_AUDIENCE, TEST_ISSUER, Tokens

ME = "/api/v1/sample/notes"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims() -> dict[str, object]:
    now = int(time.time())
    return {
        "sub": "attacker",
        "role": "province_admin",
        "region_code": "350000",
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "iat": now,
        "exp": now + 600,
    }


def _unsigned(header: dict[str, object]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}."


async def _status(client: httpx.AsyncClient, token: str) -> tuple[int, str]:
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, response.json()["code"]


async def test_a_valid_token_is_accepted(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(ME, headers=tokens.headers(Role.province_admin))
    assert response.status_code == 200


async def test_missing_token_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_expired_token_is_rejected(client: httpx.AsyncClient, tokens: Tokens) -> None:
    token = tokens.token(Role.province_admin, ttl=timedelta(minutes=-5))
    assert await _status(client, token) == (401, "token_expired")


async def test_alg_none_is_rejected(client: httpx.AsyncClient, token_issuer: TokenIssuer) -> None:
    token = _unsigned({"alg": "none", "typ": "JWT", "kid": token_issuer.kid})
    assert await _status(client, token) == (401, "invalid_token")


async def test_hs256_signed_with_the_public_key_is_rejected(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    public_pem = json.dumps(token_issuer.public_jwk)
    token = jwt.encode(_claims(), public_pem, algorithm="HS256", headers={"kid": token_issuer.kid})
    assert await _status(client, token) == (401, "invalid_token")


async def test_token_from_another_key_with_our_kid_is_rejected(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    forger = generate_private_key_pem()
    token = jwt.encode(_claims(), forger, algorithm="ES256", headers={"kid": token_issuer.kid})
    assert await _status(client, token) == (401, "invalid_token")


async def test_unknown_kid_is_rejected(client: httpx.AsyncClient) -> None:
    forger = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    token, _ = forger.issue(
        {"sub": "x", "role": "province_admin", "region_code": "350000"}, timedelta(minutes=5)
    )
    assert await _status(client, token) == (401, "invalid_token")


async def test_rs256_token_is_rejected(client: httpx.AsyncClient, token_issuer: TokenIssuer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    token = jwt.encode(_claims(), pem, algorithm="RS256", headers={"kid": token_issuer.kid})
    assert await _status(client, token) == (401, "invalid_token")


async def test_wrong_audience_or_unknown_role_is_rejected(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    other = TokenIssuer(token_issuer._pem, issuer=TEST_ISSUER, audience="someone-else")
    token, _ = other.issue(
        {"sub": "x", "role": "province_admin", "region_code": "350000"}, timedelta(minutes=5)
    )
    assert await _status(client, token) == (401, "invalid_token")
    odd, _ = token_issuer.issue(
        {"sub": "x", "role": "superuser", "region_code": "350000"}, timedelta(minutes=5)
    )
    assert await _status(client, odd) == (401, "invalid_token")


async def test_garbage_token_is_rejected(client: httpx.AsyncClient) -> None:
    assert await _status(client, "not.a.jwt") == (401, "invalid_token")


async def test_jwks_is_fetched_over_http_cached_and_refetched_for_a_new_kid(
    token_issuer: TokenIssuer,
) -> None:
    served: dict[str, Any] = {"jwks": token_issuer.jwks()}
    hits: list[int] = []
    jwks_app = FastAPI()

    @jwks_app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        hits.append(1)
        return dict(served["jwks"])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=jwks_app), base_url="http://gw") as http:
        verifier = TokenVerifier(
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
            jwks_url="http://gw/.well-known/jwks.json",
            http_client=http,
        )
        token, _ = token_issuer.issue(
            {"sub": "a", "role": "county_admin", "region_code": "350206"}, timedelta(minutes=5)
        )
        assert (await verifier.verify(token)).region_code == "350206"
        await verifier.verify(token)
        assert len(hits) == 1
        rotated = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
        served["jwks"] = {"keys": [*token_issuer.jwks()["keys"], *rotated.jwks()["keys"]]}
        verifier._cache.fetched_at -= TokenVerifier.REFETCH_MIN_SECONDS  # the refetch guard has passed
        new_token, _ = rotated.issue(
            {"sub": "b", "role": "city_admin", "region_code": "350200"}, timedelta(minutes=5)
        )
        assert (await verifier.verify(new_token)).sub == "b"
        assert len(hits) == 2
        forged = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
        bad, _ = forged.issue(
            {"sub": "c", "role": "city_admin", "region_code": "350200"}, timedelta(minutes=5)
        )
        with pytest.raises(Unauthorized):
            await verifier.verify(bad)
        assert len(hits) == 2  # an unknown kid right after a fetch does not hammer the gateway


async def test_unreachable_jwks_is_503_not_401(token_issuer: TokenIssuer) -> None:
    async with httpx.AsyncClient(base_url="http://127.0.0.1:9") as http:
        verifier = TokenVerifier(
            issuer=TEST_ISSUER, audience=TEST_AUDIENCE, jwks_url="http://127.0.0.1:9/jwks", http_client=http
        )
        token, _ = token_issuer.issue(
            {"sub": "a", "role": "county_admin", "region_code": "350206"}, timedelta(minutes=5)
        )
        with pytest.raises(ServiceUnavailable):
            await verifier.verify(token)


def _signed(token_issuer: TokenIssuer, **changes: object) -> str:
    claims = {**_claims(), **changes}
    return str(jwt.encode(claims, token_issuer._pem, algorithm="ES256", headers={"kid": token_issuer.kid}))


async def test_a_token_issued_in_the_future_is_refused_beyond_the_clock_skew(
    client: httpx.AsyncClient, token_issuer: TokenIssuer
) -> None:
    # The verifier allows 30 s of clock skew (jwt_clock_skew_seconds' default).
    now = int(time.time())
    assert (
        await client.get(ME, headers={"Authorization": f"Bearer {_signed(token_issuer, iat=now + 25)}"})
    ).status_code == 200
    future = _signed(token_issuer, iat=now + 40)
    assert await _status(client, future) == (401, "invalid_token")
    assert await _status(client, _signed(token_issuer, iat=now + 86400, exp=now + 90000)) == (
        401,
        "invalid_token",
    )


async def test_the_clock_skew_is_configurable(token_issuer: TokenIssuer) -> None:
    strict = TokenVerifier(
        issuer=TEST_ISSUER, audience=TEST_AUDIENCE, static_jwks=token_issuer.jwks(), clock_skew_seconds=5
    )
    now = int(time.time())
    await strict.verify(_signed(token_issuer, iat=now + 2))
    with pytest.raises(Unauthorized):
        await strict.verify(_signed(token_issuer, iat=now + 10))


async def test_a_service_token_is_accepted_only_by_the_service_it_names(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # The sample app's service name is "sample".
    for_sample = tokens.headers(Role.service, sub="service:indicators", audience="sample")
    for_registry = tokens.headers(Role.service, sub="service:indicators", audience="registry")
    platform_wide = tokens.headers(Role.service, sub="service:indicators", audience=TEST_AUDIENCE)
    # Authenticated (the sample grants services nothing, so 403 — not 401 as for the others).
    assert (await client.get(ME, headers=for_sample)).json()["code"] == "permission_denied"
    for headers in (for_registry, platform_wide):
        response = await client.get(ME, headers=headers)
        assert (response.status_code, response.json()["code"]) == (401, "invalid_token")
