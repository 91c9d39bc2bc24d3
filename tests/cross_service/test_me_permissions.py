"""``GET /api/v1/auth/me`` lists the caller's permission codes (issue 15), gathered by the gateway from the
five services' ``access/me`` — checked against what the design says each role may do, and against the
platform itself: a listed permission lets its endpoint through, an unlisted one answers 403.

The expectations come from ARCHITECTURE.md and rules.md (who manages what at which level), not from the
services' POLICY tables.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.database import session_scope
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, running
from services.gateway.accounts.models import User
from services.indicators.app import create_app as create_indicators_app
from services.indicators.settings import IndicatorsSettings
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings
from tests import platform_apps

ME = "/api/v1/auth/me"
SERVICES = ("gateway", "registry", "contracts", "homecare", "indicators", "residents")


@dataclass(frozen=True)
class Gateway:
    client: httpx.AsyncClient
    app: FastAPI


@pytest.fixture(scope="module")
async def gateway(
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    token_verifier: TokenVerifier,
    sync_database_urls: dict[str, str],
    registry_app: FastAPI,
    contracts_app: FastAPI,
    homecare_app: FastAPI,
) -> AsyncIterator[Gateway]:
    """A gateway in front of the five real services (the suite's three, an indicators and a residents
    app)."""
    indicators = create_indicators_app(
        make_settings(IndicatorsSettings, test_databases, follow_interval_seconds=0), verifier=token_verifier
    )
    residents = create_residents_app(
        make_settings(ResidentsSettings, test_databases), verifier=token_verifier
    )
    apps = {
        "registry": registry_app,
        "contracts": contracts_app,
        "homecare": homecare_app,
        "indicators": indicators,
        "residents": residents,
    }
    async with (
        running(indicators),
        running(residents),
        platform_apps.gateway_app(
            test_databases,
            token_issuer,
            sync_database_urls["gateway"],
            {name: httpx.ASGITransport(app=app) for name, app in apps.items()},
        ) as gateway_app,
        live_client(gateway_app) as client,
    ):
        yield Gateway(client, gateway_app)


async def user_headers(
    gateway: Gateway,
    tokens: Tokens,
    role: Role,
    region_code: str,
    *,
    institution_id: uuid.UUID | None = None,
) -> dict[str, str]:
    """A real user of the gateway (``/me`` looks the account up) and a token naming it."""
    user = User(
        username=f"me_{role.value}_{uuid.uuid4().hex[:8]}",
        display_name="权限测试",
        password_hash="not-used",
        role=role.value,
        region_code=region_code,
        institution_id=institution_id,
    )
    async with session_scope(gateway.app.state.database) as session:
        session.add(user)
    token = tokens.token(role, region_code, institution_id=institution_id, sub=f"user:{user.id}")
    return {"Authorization": f"Bearer {token}"}


async def permissions_of(gateway: Gateway, headers: dict[str, str]) -> set[str]:
    response = await gateway.client.get(ME, headers=headers)
    assert response.status_code == 200, response.text
    listed: list[str] = response.json()["permissions"]
    assert listed == sorted(listed)
    return set(listed)


async def test_a_county_admin_may_manage_institutions_and_review_filings_in_its_county(
    gateway: Gateway, tokens: Tokens
) -> None:
    # ARCHITECTURE: a county user manages the records of its county; rules.md: 内设医疗机构 filings are
    # filed with the county, which may refuse or revoke them; the county creates institution accounts.
    listed = await permissions_of(gateway, await user_headers(gateway, tokens, Role.county_admin, "350206"))
    assert {
        "registry:institutions:read",
        "registry:institutions:create",
        "registry:institutions:update",
        "registry:filings:review",
        "gateway:users:write",
    } <= listed
    assert {permission.split(":")[0] for permission in listed} == set(SERVICES)  # every service answered
    assert "gateway:clients:write" not in listed  # city-platform clients are the province's


async def test_an_institution_user_may_not_review_filings_nor_bulk_write(
    gateway: Gateway, tokens: Tokens
) -> None:
    institution = uuid.uuid4()
    admin = await permissions_of(
        gateway,
        await user_headers(gateway, tokens, Role.institution_admin, "350206", institution_id=institution),
    )
    # an institution files its medical unit and keeps its own record; it does not judge filings
    assert {"registry:filings:submit", "registry:institutions:update"} <= admin
    assert "registry:filings:review" not in admin
    assert "registry:institutions:create" not in admin
    assert "registry:institutions:bulk_upsert" not in admin
    assert "contracts:agreements:write" in admin  # it signs its 医养签约 agreements
    staff = await permissions_of(
        gateway,
        await user_headers(gateway, tokens, Role.institution_staff, "350206", institution_id=institution),
    )
    # nurses record their visits; they manage no accounts
    assert "homecare:orders:visit" in staff
    assert not {p for p in staff if p.startswith("gateway:users")}


async def test_a_city_platform_may_bulk_write_but_not_manage_accounts(
    gateway: Gateway, tokens: Tokens
) -> None:
    # ARCHITECTURE: city platforms sync through the API (bulk writes, feeds); no accounts of the gateway
    token = tokens.token(Role.city_platform, "350200", sub="client:xm_platform_me")
    listed = await permissions_of(gateway, {"Authorization": f"Bearer {token}"})
    assert {
        "registry:institutions:bulk_upsert",
        "contracts:agreements:bulk",
        "registry:changes:read",
    } <= listed
    assert not {p for p in listed if p.startswith("gateway:")}
    assert "registry:institutions:create" not in listed


async def test_the_province_manages_api_clients(gateway: Gateway, tokens: Tokens) -> None:
    listed = await permissions_of(gateway, await user_headers(gateway, tokens, Role.province_admin, "350000"))
    assert {"gateway:clients:write", "gateway:users:write", "registry:institutions:read"} <= listed
    assert "registry:filings:review" not in listed  # filings are the county's


#: (permission, method, path, JSON body): endpoints the permission guards, probed through the gateway
PROBES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("registry:institutions:read", "GET", "/api/v1/registry/institutions?limit=1", None),
    ("gateway:users:read", "GET", "/api/v1/auth/users?limit=1", None),
    ("indicators:status:read", "GET", "/api/v1/indicators/status", None),
    (
        "registry:filings:review",
        "POST",
        f"/api/v1/registry/filings/{uuid.uuid4()}/reject",
        {"reason": "材料不全，不予备案"},
    ),
]


@pytest.mark.parametrize(
    ("role", "region_code"),
    [
        (Role.province_admin, "350000"),
        (Role.county_admin, "350206"),
        (Role.institution_admin, "350206"),
        (Role.institution_staff, "350206"),
    ],
)
async def test_a_listed_permission_opens_its_endpoint_and_an_unlisted_one_is_refused(
    gateway: Gateway, tokens: Tokens, role: Role, region_code: str
) -> None:
    institution = uuid.uuid4() if role in (Role.institution_admin, Role.institution_staff) else None
    headers = await user_headers(gateway, tokens, role, region_code, institution_id=institution)
    listed = await permissions_of(gateway, headers)
    for permission, method, path, body in PROBES:
        response = await gateway.client.request(method, path, headers=headers, json=body)
        refused = response.status_code == 403 and response.json().get("code") == "permission_denied"
        assert refused == (permission not in listed), (permission, response.status_code, response.text)
        if permission in listed and method == "GET":
            assert response.status_code == 200, (permission, response.text)


async def test_a_service_that_does_not_answer_is_left_out(
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    sync_database_urls: dict[str, str],
    registry_app: FastAPI,
    tokens: Tokens,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Refused(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    upstreams: dict[str, httpx.AsyncBaseTransport] = {
        "registry": httpx.ASGITransport(app=registry_app),
        "contracts": Refused(),
        "homecare": Refused(),
        "indicators": Refused(),
        "residents": Refused(),
    }
    async with (
        platform_apps.gateway_app(
            test_databases, token_issuer, sync_database_urls["gateway"], upstreams
        ) as gateway_app,
        live_client(gateway_app) as client,
    ):
        token = tokens.token(Role.city_platform, "350200", sub="client:xm_platform_down")
        with caplog.at_level("WARNING", logger="services.gateway.tokens.grants"):
            response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    services = {permission.split(":")[0] for permission in response.json()["permissions"]}
    assert services == {"registry"}
    assert sum("permissions of a service unavailable" in r.message for r in caplog.records) == 4
