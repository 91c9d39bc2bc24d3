"""Coverage on seeded data, checked against numbers computed independently in the test: the registry's
own list endpoint for the institutions, and hand-written SQL over the contracts database."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.conftest import TODAY
from tests.contracts.flows import admin_of, draft, signed, transition
from tests.contracts.registry_data import RegistryData

COVERAGE = "/api/v1/contracts/coverage"


async def _seed(client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens) -> dict[str, Any]:
    """宁德: 蕉城区 350902 and 福安市 350981."""
    hospital = await registry.medical("350902")
    other_hospital = await registry.medical("350981")
    covered = await registry.elderly("350902")  # two agreements, two hospitals
    draft_only = await registry.elderly("350902")  # a draft does not cover
    own_unit = await registry.integrated("350981")  # 医养结合 with its own medical unit
    expiring = await registry.elderly("350981")  # covered, agreement ends in 20 days
    future = await registry.elderly("350981")  # signed, starts next month: not yet covered
    terminated = await registry.elderly("350902")  # terminated: not covered
    closed = await registry.elderly("350902")  # signed, then closed: not counted at all
    await signed(client, tokens, hospital, covered, start_date="2026-01-01", end_date="2026-05-31")
    await signed(client, tokens, other_hospital, covered, start_date="2026-02-01", end_date="2027-01-31")
    await draft(client, tokens, hospital, draft_only)
    await signed(client, tokens, other_hospital, expiring, start_date="2025-06-01", end_date="2026-04-05")
    await signed(client, tokens, hospital, future, start_date="2026-04-01")
    ended = await signed(client, tokens, hospital, terminated, start_date="2026-01-01")
    await transition(client, ended, "terminate", admin_of(tokens, hospital), json={"reason": "合作终止"})
    await signed(client, tokens, hospital, closed, start_date="2026-01-01")
    await registry.deactivate(closed)
    return {"covered": covered, "draft_only": draft_only, "own_unit": own_unit, "future": future,
            "terminated": terminated, "expiring": expiring}  # fmt: skip


async def _independent(
    registry: RegistryData, tokens: Tokens, client_db: Any, region: str, prefix: str
) -> dict[str, Any]:
    listed = await registry.client.get(
        "/api/v1/registry/institutions",
        params=[
            ("kind", "elderly_care"),
            ("kind", "integrated"),
            ("region_code", region),
            ("active", "true"),
            ("limit", 200),
        ],  # fmt: skip
        headers=tokens.headers(Role.province_admin),
    )
    institutions = listed.json()["items"]
    in_force = "state IN ('active', 'countersigned') AND start_date <= :today AND end_date >= :today"
    # an institution is covered by an agreement with it as the elderly-care party (of its county); signed
    # pairs and expiring agreements count in each party's county (issue 13)
    covering = f"{in_force} AND region_code LIKE :prefix"
    either = f"{in_force} AND (elderly_region_code LIKE :prefix OR medical_region_code LIKE :prefix)"
    params = {"today": TODAY, "prefix": prefix + "%"}
    signed_ids = {
        str(uuid.UUID(str(v))) if not isinstance(v, uuid.UUID) else str(v)
        for v in (
            await client_db.execute(
                text(f"SELECT DISTINCT elderly_institution_id FROM agreement WHERE {covering}"), params
            )
        ).scalars()
    }
    pairs = (
        await client_db.execute(
            text(
                "SELECT COUNT(*) FROM (SELECT DISTINCT medical_institution_id, elderly_institution_id "
                f"FROM agreement WHERE {either}) AS p"
            ),
            params,
        )
    ).scalar_one()
    expiring = {}
    for days in (30, 60, 90):
        expiring[days] = (
            await client_db.execute(
                text(f"SELECT COUNT(*) FROM agreement WHERE {either} AND end_date <= :until"),
                {**params, "until": TODAY + timedelta(days=days)},
            )
        ).scalar_one()
    covered = [i for i in institutions if i["id"] in signed_ids or i["has_medical_unit"]]
    return {
        "institutions": len(institutions),
        "covered": len(covered),
        "uncovered": sorted(i["id"] for i in institutions if i not in covered),
        "pairs": pairs,
        "expiring": expiring,
    }


async def test_coverage_matches_an_independent_count(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    seeded = await _seed(client, registry, tokens)
    response = await client.get(
        COVERAGE, params={"group_by": "county"}, headers=tokens.headers(Role.city_admin, "350900")
    )
    assert response.status_code == 200, response.text
    body = response.json()

    from libs.common.testing import ConnectionBoundDatabase

    database = contracts_app.state.database
    assert isinstance(database, ConnectionBoundDatabase)
    async with database.session() as session:
        expected = await _independent(registry, tokens, session, "350900", "3509")

    assert body["institutions"] == expected["institutions"] == 6
    assert body["covered"] == expected["covered"] == 3
    assert sorted(u["id"] for u in body["uncovered"]) == expected["uncovered"]
    assert set(expected["uncovered"]) == {seeded[k]["id"] for k in ("draft_only", "future", "terminated")}
    assert body["signed_pairs"] == expected["pairs"] == 4  # the inactive institution's agreement still counts
    assert body["expiring"] == {
        "within_30_days": expected["expiring"][30],
        "within_60_days": expected["expiring"][60],
        "within_90_days": expected["expiring"][90],
    }
    assert (expected["expiring"][30], expected["expiring"][90]) == (1, 2)
    assert (body["covered_by_agreement"], body["covered_by_own_medical_unit"]) == (2, 1)
    assert body["rate_pct"] == 50.0
    assert body["target_pct"] == 100.0
    assert body["meets_target"] is False
    groups = {g["region_code"]: g for g in body["groups"]}
    assert (groups["350902"]["institutions"], groups["350902"]["covered"]) == (3, 1)
    assert (groups["350981"]["institutions"], groups["350981"]["covered"]) == (3, 2)


async def test_coverage_by_city_and_for_a_county_admin(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    await _seed(client, registry, tokens)
    province = await client.get(COVERAGE, params={"group_by": "city", "region_code": "350900"},
                                headers=tokens.headers(Role.province_admin))  # fmt: skip
    assert [(g["region_code"], g["institutions"], g["covered"]) for g in province.json()["groups"]] == [
        ("350900", 6, 3)
    ]
    county = await client.get(COVERAGE, headers=tokens.headers(Role.county_admin, "350981"))
    body = county.json()
    # 福安's pairs: its hospital with its home, and its hospital with a 蕉城 home (each party's county counts)
    assert (body["region_code"], body["institutions"], body["covered"], body["signed_pairs"]) == (
        "350981",
        3,
        2,
        2,
    )


async def test_coverage_outside_the_callers_scope_is_403(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(
        COVERAGE, params={"region_code": "350200"}, headers=tokens.headers(Role.county_admin, "350981")
    )
    assert (response.status_code, response.json()["code"]) == (403, "out_of_scope")
    unknown = await client.get(
        COVERAGE, params={"region_code": "359999"}, headers=tokens.headers(Role.province_admin)
    )
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_region")


async def test_calendar_day_changes_coverage(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: Any
) -> None:
    seeded = await _seed(client, registry, tokens)
    clock.set_today(date(2026, 4, 6))  # the expiring one ended yesterday; the future one began
    body = (await client.get(COVERAGE, headers=tokens.headers(Role.county_admin, "350981"))).json()
    assert (body["institutions"], body["covered"]) == (3, 2)
    assert [u["id"] for u in body["uncovered"]] == [seeded["expiring"]["id"]]
