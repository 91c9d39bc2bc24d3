"""The token endpoint: every grant and its failures, refresh rotation and reuse, logout, me, JWKS."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from jose import jwt
from sqlalchemy import select, update

from libs.common.auth import Role, TokenVerifier
from libs.common.database import session_scope
from services.gateway import passwords
from services.gateway.accounts.models import User
from services.gateway.tokens.models import RefreshToken
from tests.gateway.conftest import (
    CLIENT_SECRET,
    CONTRACTS_SECRET,
    PASSWORD,
    add_api_client,
    add_user,
    login,
)

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/auth/me"


async def test_password_grant_issues_verifiable_access_and_refresh_tokens(
    client: httpx.AsyncClient, gateway_app: FastAPI, token_verifier: TokenVerifier
) -> None:
    institution = uuid.uuid4()
    practitioner = uuid.uuid4()
    user = await add_user(
        gateway_app.state.database,
        "nurse_a",
        Role.institution_staff,
        "350206",
        institution_id=institution,
        practitioner_id=practitioner,
    )
    response = await login(client, "nurse_a")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"]
    assert body["refresh_expires_in"] > 0
    principal = await token_verifier.verify(body["access_token"])
    assert principal.sub == f"user:{user.id}"
    assert principal.role is Role.institution_staff
    assert principal.region_code == "350206"
    assert principal.institution_id == institution
    assert principal.practitioner_id == practitioner
    claims = jwt.get_unverified_claims(body["access_token"])
    assert claims["exp"] - claims["iat"] == 900
    assert claims["jti"]


async def test_username_is_case_insensitive(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "casey", Role.county_admin, "350206")
    assert (await login(client, " Casey ")).status_code == 200


async def test_wrong_password_is_invalid_grant(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "wrongpw", Role.county_admin, "350206")
    response = await login(client, "wrongpw", "Not@The1Password")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_grant"
    assert body["error"] == "invalid_grant"
    assert body["error_description"] == body["detail"]


async def test_unknown_user_is_invalid_grant_like_a_wrong_password(client: httpx.AsyncClient) -> None:
    response = await login(client, "nobody_here")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


async def test_deactivated_user_cannot_log_in(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "gone", Role.county_admin, "350206", active=False)
    response = await login(client, "gone")
    assert response.status_code == 401
    assert response.json()["code"] == "account_disabled"


async def test_password_grant_without_password_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "password", "username": "x"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["errors"][0]["field"] == "body.password"


async def test_missing_grant_type_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_unknown_grant_type_is_unsupported(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "authorization_code", "code": "x"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unsupported_grant_type"
    assert body["error"] == "unsupported_grant_type"


async def test_refresh_rotates_the_refresh_token(
    client: httpx.AsyncClient, gateway_app: FastAPI, token_verifier: TokenVerifier
) -> None:
    await add_user(gateway_app.state.database, "rotator", Role.city_admin, "350200")
    first = (await login(client, "rotator")).json()
    response = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await token_verifier.verify(second["access_token"])).role is Role.city_admin
    third = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "victim", Role.city_admin, "350200")
    first = (await login(client, "victim")).json()
    second = (
        await client.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
    ).json()

    replay = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert replay.status_code == 401
    assert replay.json()["code"] == "refresh_token_reused"
    assert replay.json()["error"] == "invalid_grant"

    # The legitimate holder's current token died with the family.
    after = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401
    assert after.json()["code"] == "refresh_token_revoked"


async def test_reuse_does_not_touch_other_sessions_of_the_user(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "twodevices", Role.city_admin, "350200")
    phone = (await login(client, "twodevices")).json()
    laptop = (await login(client, "twodevices")).json()
    await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": phone["refresh_token"]})
    await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": phone["refresh_token"]})
    still = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": laptop["refresh_token"]}
    )
    assert still.status_code == 200


async def test_unknown_refresh_token_is_invalid_grant(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "refresh_token", "refresh_token": "made-up"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


async def test_refresh_without_token_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "refresh_token"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_expired_refresh_token_is_refused(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    user = await add_user(gateway_app.state.database, "expiring", Role.city_admin, "350200")
    tokens = (await login(client, "expiring")).json()
    async with session_scope(gateway_app.state.database) as session:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    response = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "refresh_token_expired"


async def test_refresh_of_a_deactivated_user_is_refused(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    user = await add_user(gateway_app.state.database, "leaver", Role.city_admin, "350200")
    tokens = (await login(client, "leaver")).json()
    async with session_scope(gateway_app.state.database) as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.active = False
    response = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "account_disabled"


async def test_logout_revokes_the_refresh_token_family(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "leaving", Role.city_admin, "350200")
    first = (await login(client, "leaving")).json()
    second = (
        await client.post(
            TOKEN, data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
        )
    ).json()
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": second["refresh_token"]})
    assert response.status_code == 204
    after = await client.post(
        TOKEN, data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401
    assert after.json()["code"] == "refresh_token_revoked"


async def test_logout_with_an_unknown_token_answers_204(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": "never-issued"})
    assert response.status_code == 204


async def test_service_client_credentials_give_a_short_service_token(
    client: httpx.AsyncClient, token_verifier: TokenVerifier
) -> None:
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "contracts",
            "client_secret": CONTRACTS_SECRET,
            "audience": "registry",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["expires_in"] == 300
    assert body.get("refresh_token") is None
    principal = await token_verifier.verify(body["access_token"], service="registry")
    assert principal.sub == "service:contracts"
    assert principal.role is Role.service
    assert principal.region_code == "350000"


async def test_service_client_with_a_wrong_secret_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": "registry", "client_secret": "guess"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_city_platform_client_credentials_give_a_city_token(
    client: httpx.AsyncClient, gateway_app: FastAPI, token_verifier: TokenVerifier
) -> None:
    await add_api_client(gateway_app.state.database, "xm_test_platform", "350200")
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "xm_test_platform",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200, response.text
    principal = await token_verifier.verify(response.json()["access_token"])
    assert principal.role is Role.city_platform
    assert principal.region_code == "350200"
    assert principal.sub == "client:xm_test_platform"


async def test_client_credentials_by_http_basic(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_api_client(gateway_app.state.database, "basic_platform", "350100")
    credentials = base64.b64encode(f"basic_platform:{CLIENT_SECRET}".encode()).decode()
    response = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {credentials}"}
    )
    assert response.status_code == 200, response.text


async def test_malformed_basic_header_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!not-base64"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


async def test_revoked_city_platform_client_is_invalid_client(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_api_client(gateway_app.state.database, "revoked_platform", active=False)
    response = await client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": "revoked_platform",
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


async def test_unknown_client_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post(
        TOKEN, data={"grant_type": "client_credentials", "client_id": "ghost", "client_secret": "x"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"


async def test_client_credentials_without_secret_is_invalid_request(client: httpx.AsyncClient) -> None:
    response = await client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "registry"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


async def test_me_describes_a_logged_in_user(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "huli_me", Role.county_admin, "350206")
    token = (await login(client, "huli_me")).json()["access_token"]
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "huli_me"
    assert body["display_name"] == "测试 huli_me"
    assert body["role"] == "county_admin"
    assert body["role_label"] == "县（市、区）管理员"
    assert body["region_name"] == "湖里区"


async def test_me_describes_an_api_client(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_api_client(gateway_app.state.database, "xm_me_platform", "350200")
    token = (
        await client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": "xm_me_platform",
                "client_secret": CLIENT_SECRET,
            },
        )
    ).json()["access_token"]
    body = (await client.get(ME, headers={"Authorization": f"Bearer {token}"})).json()
    assert body["client_id"] == "xm_me_platform"
    assert body["role"] == "city_platform"


async def test_a_service_token_is_not_valid_at_the_gateway(client: httpx.AsyncClient) -> None:
    token = (
        await client.post(
            TOKEN,
            data={
                "grant_type": "client_credentials",
                "client_id": "contracts",
                "client_secret": CONTRACTS_SECRET,
                "audience": "registry",
            },
        )
    ).json()["access_token"]
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


async def test_me_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"


async def test_me_of_a_user_deactivated_since_login_is_401(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    user = await add_user(gateway_app.state.database, "deactivated_me", Role.county_admin, "350206")
    token = (await login(client, "deactivated_me")).json()["access_token"]
    async with session_scope(gateway_app.state.database) as session:
        stored = await session.scalar(select(User).where(User.id == user.id))
        assert stored is not None
        stored.active = False
    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["code"] == "account_disabled"


async def test_jwks_publishes_the_public_signing_key(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "jwks_user", Role.county_admin, "350206")
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) >= 1
    key = keys[0]
    assert {k: key[k] for k in ("kty", "crv", "alg", "use")} == {
        "kty": "EC",
        "crv": "P-256",
        "alg": "ES256",
        "use": "sig",
    }
    assert "d" not in key  # never the private part
    token = (await login(client, "jwks_user", PASSWORD)).json()["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    assert jwt.get_unverified_header(token)["alg"] == "ES256"


async def test_a_hash_with_outdated_parameters_is_upgraded_at_login(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user = await add_user(gateway_app.state.database, "old_hash", Role.county_admin, "350206")
    async with session_scope(gateway_app.state.database) as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    assert (await login(client, "old_hash")).status_code == 200
    async with session_scope(gateway_app.state.database) as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored is not None
    assert stored != weak
    assert not passwords.needs_rehash(stored)
    assert (await login(client, "old_hash")).status_code == 200
