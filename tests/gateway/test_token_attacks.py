"""Tokens that must be refused, by the gateway (``/api/v1/auth/me``) and by a service (the real registry
app in-process, whose verifier knows only the gateway's published keys)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from jose import jwt

from libs.common.auth import Principal, Role, TokenIssuer, generate_private_key_pem, principal_claims
from libs.common.testing import Tokens

TARGETS = {"gateway": "/api/v1/auth/me", "registry": "/api/v1/registry/institutions"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _claims(issuer: TokenIssuer) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": "attacker",
        "role": Role.province_admin.value,
        "region_code": "350000",
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "iat": now,
        "exp": now + 600,
        "jti": "x",
    }


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def forged_with_another_key_claiming_the_real_kid(issuer: TokenIssuer, tokens: Tokens) -> str:
    return jwt.encode(
        _claims(issuer), generate_private_key_pem(), algorithm="ES256", headers={"kid": issuer.kid}
    )


def signed_with_an_unknown_kid(issuer: TokenIssuer, tokens: Tokens) -> str:
    return jwt.encode(
        _claims(issuer), generate_private_key_pem(), algorithm="ES256", headers={"kid": "unknown-kid"}
    )


def expired(issuer: TokenIssuer, tokens: Tokens) -> str:
    return tokens.token(Role.province_admin, ttl=timedelta(minutes=-5))


def alg_none(issuer: TokenIssuer, tokens: Tokens) -> str:
    return _unsigned({"alg": "none", "typ": "JWT", "kid": issuer.kid}, _claims(issuer))


def _hs256(issuer: TokenIssuer, secret: bytes) -> str:
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims(issuer)).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _public_pem(issuer: TokenIssuer) -> bytes:
    jwk = issuer.public_jwk
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(base64.urlsafe_b64decode(jwk["x"] + "=="), "big"),
        int.from_bytes(base64.urlsafe_b64decode(jwk["y"] + "=="), "big"),
        ec.SECP256R1(),
    )
    return numbers.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256_keyed_with_the_public_key_pem(issuer: TokenIssuer, tokens: Tokens) -> str:
    # The classic algorithm confusion: an HMAC keyed with the published public key.
    return _hs256(issuer, _public_pem(issuer))


def hs256_keyed_with_the_public_jwk(issuer: TokenIssuer, tokens: Tokens) -> str:
    return _hs256(issuer, json.dumps(issuer.public_jwk).encode())


def tampered_claims(issuer: TokenIssuer, tokens: Tokens) -> str:
    genuine = tokens.token(Role.institution_staff, "350206")
    head, _, signature = genuine.split(".")
    claims = jwt.get_unverified_claims(genuine)
    claims["role"] = Role.province_admin.value
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def wrong_audience(issuer: TokenIssuer, tokens: Tokens) -> str:
    other = TokenIssuer(issuer._pem, issuer=issuer.issuer, audience="another-platform")
    admin = Principal(sub="x", role=Role.province_admin, region_code="350000")
    token, _ = other.issue(principal_claims(admin), timedelta(minutes=5))
    return token


def garbage(issuer: TokenIssuer, tokens: Tokens) -> str:
    return "not.a.jwt"


ATTACKS: dict[str, Callable[[TokenIssuer, Tokens], str]] = {
    "forged": forged_with_another_key_claiming_the_real_kid,
    "unknown_kid": signed_with_an_unknown_kid,
    "expired": expired,
    "alg_none": alg_none,
    "hs256_public_key_pem": hs256_keyed_with_the_public_key_pem,
    "hs256_public_jwk": hs256_keyed_with_the_public_jwk,
    "tampered_claims": tampered_claims,
    "wrong_audience": wrong_audience,
    "garbage": garbage,
}


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_bad_token_is_rejected_with_401(
    attack: str,
    target: str,
    gateway_app: FastAPI,
    registry_app: FastAPI,
    token_issuer: TokenIssuer,
    tokens: Tokens,
) -> None:
    token = ATTACKS[attack](token_issuer, tokens)
    app = gateway_app if target == "gateway" else registry_app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(TARGETS[target], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    expected = "token_expired" if attack == "expired" else "invalid_token"
    assert response.json()["code"] == expected


@pytest.mark.parametrize("target", sorted(TARGETS))
async def test_a_genuine_token_is_accepted(
    target: str, gateway_app: FastAPI, registry_app: FastAPI, tokens: Tokens
) -> None:
    app = gateway_app if target == "gateway" else registry_app
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(TARGETS[target], headers=tokens.headers(Role.province_admin))
    assert response.status_code == 200, response.text
