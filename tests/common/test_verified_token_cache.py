"""A verified token is remembered (issue 16): seen again, it skips the signature check — but only while a
full check would accept it too (not expired, its key still published); a refused token is never
remembered, and a token remembered for one service is not thereby accepted by another."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt

from libs.common.auth import TokenIssuer, TokenVerifier, generate_private_key_pem
from libs.common.errors import Unauthorized
from libs.common.testing import TEST_AUDIENCE, TEST_ISSUER

CLAIMS = {"sub": "a", "role": "county_admin", "region_code": "350206"}


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature and claims were checked in full."""
    checked: list[str] = []
    decode = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)  # what libs.common.auth calls
    return checked


def _verifier(token_issuer: TokenIssuer, **options: Any) -> TokenVerifier:
    return TokenVerifier(
        issuer=TEST_ISSUER, audience=TEST_AUDIENCE, static_jwks=token_issuer.jwks(), **options
    )


async def test_a_token_seen_again_is_not_checked_again(token_issuer: TokenIssuer, decodes: list[str]) -> None:
    verifier = _verifier(token_issuer)
    token, _ = token_issuer.issue(CLAIMS, timedelta(minutes=5))
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first
    assert first.region_code == "350206"
    assert decodes == [token]


async def test_a_remembered_token_that_expired_is_refused_as_expired(
    token_issuer: TokenIssuer, decodes: list[str]
) -> None:
    verifier = _verifier(token_issuer, clock_skew_seconds=0)
    token, _ = token_issuer.issue(CLAIMS, timedelta(seconds=1))
    await verifier.verify(token)
    await asyncio.sleep(2.1)
    with pytest.raises(Unauthorized) as refused:
        await verifier.verify(token)
    assert refused.value.code == "token_expired"
    assert decodes == [token, token]


async def test_a_remembered_token_whose_key_was_withdrawn_is_refused(token_issuer: TokenIssuer) -> None:
    served: dict[str, Any] = {"jwks": token_issuer.jwks()}
    jwks_app = FastAPI()

    @jwks_app.get("/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return dict(served["jwks"])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=jwks_app), base_url="http://gw") as http:
        verifier = TokenVerifier(
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
            jwks_url="http://gw/.well-known/jwks.json",
            http_client=http,
            cache_seconds=60,
        )
        token, _ = token_issuer.issue(CLAIMS, timedelta(minutes=5))
        await verifier.verify(token)
        await verifier.verify(token)
        rotated = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
        served["jwks"] = rotated.jwks()  # the old key withdrawn
        verifier._cache.fetched_at -= 60  # the key set is due for a refetch
        with pytest.raises(Unauthorized) as refused:
            await verifier.verify(token)
        assert refused.value.code == "invalid_token"


async def test_a_refused_token_is_checked_in_full_every_time(
    token_issuer: TokenIssuer, decodes: list[str]
) -> None:
    verifier = _verifier(token_issuer)
    stranger = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    stranger.kid = token_issuer.kid  # our kid, another key: the signature fails
    forged, _ = stranger.issue(CLAIMS, timedelta(minutes=5))
    for _ in range(2):
        with pytest.raises(Unauthorized):
            await verifier.verify(forged)
    assert decodes == [forged, forged]


async def test_a_service_token_remembered_for_its_service_is_still_refused_by_another(
    token_issuer: TokenIssuer,
) -> None:
    verifier = _verifier(token_issuer)
    token, _ = token_issuer.issue(
        {"sub": "service:indicators", "role": "service", "region_code": "350000"},
        timedelta(minutes=5),
        audience="registry",
    )
    assert (await verifier.verify(token, service="registry")).sub == "service:indicators"
    for other in ("homecare", None):
        with pytest.raises(Unauthorized):
            await verifier.verify(token, service=other)
    assert (await verifier.verify(token, service="registry")).sub == "service:indicators"


async def test_the_memory_is_bounded_oldest_first(token_issuer: TokenIssuer, decodes: list[str]) -> None:
    verifier = _verifier(token_issuer, verified_cache_size=2)
    a, b, c = (token_issuer.issue({**CLAIMS, "sub": s}, timedelta(minutes=5))[0] for s in "abc")
    for token in (a, b, c, c, b, a):
        await verifier.verify(token)
    assert decodes == [a, b, c, a]  # c and b remembered; a was dropped for c


async def test_a_size_of_zero_checks_every_token_in_full(
    token_issuer: TokenIssuer, decodes: list[str]
) -> None:
    verifier = _verifier(token_issuer, verified_cache_size=0)
    token, _ = token_issuer.issue(CLAIMS, timedelta(minutes=5))
    await verifier.verify(token)
    await verifier.verify(token)
    assert decodes == [token, token]
