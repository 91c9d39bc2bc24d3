"""Latency of the indicators' reports and the followers' lag (measured, not asserted; issue 13).

Run: ``.venv/bin/python -m tests.indicators.bench_report [--backend sqlite|postgresql|both] [--runs N]``

For each backend it starts, in-process, the registry, the gateway and the indicators apps on fresh
databases (SQLite files in a temp dir; PostgreSQL: a throwaway database on ``TEST_POSTGRES_URL`` or
127.0.0.1:5432, skipped if none answers), the indicators' followers running as in production (interval
``INDICATORS_FOLLOW_INTERVAL_SECONDS`` = 5 s). The read model is filled by straight inserts (random but
seeded, all counties of 福建) at two scales:

- ``demo``: the size the source documents report for the province and the demo province aims at —
  1,400 institutions (the demo registry's count), 2,600 agreements (000: 2,574 signed pairs), 10,000
  巡诊 visits, 2,000 home beds, 5,000 orders;
- ``100x``: the same with 100 × the agreements (260,000) and the orders (500,000).

Timed through the indicators' ASGI app as ``prov_admin`` (HTTP handling and JSON included), ``--runs``
times each: the province report for 2025 with its breakdown (10 city-level units), the target
evaluation (the demo's 2025 targets, each-county ones included), one drill-down page (the 50 first
养老机构 without an agreement or a medical unit, ``agreement_coverage`` gap). Then the follower lag: an
integrated institution created in the registry (through its API) until the county's report counts it.
Only the registry runs besides them (the lag is the registry follower's; the contracts and homecare
followers fail and back off). Prints median and p95 per scale and the ratio 100x / demo. Not collected
by pytest (not ``test_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from demo.indicators import seed_reference
from libs.common import divisions
from libs.common.auth import Role, TokenIssuer, TokenVerifier, generate_private_key_pem
from libs.common.database import Database, session_scope
from libs.common.testing import (
    DEFAULT_POSTGRES_URL,
    TEST_AUDIENCE,
    TEST_ISSUER,
    TestDatabases,
    Tokens,
    create_database,
    drop_database,
    make_settings,
    running,
)
from services.gateway.app import create_app as create_gateway_app
from services.gateway.settings import GatewaySettings
from services.indicators.app import create_app as create_indicators_app
from services.indicators.facts.models import (
    AgreementFact,
    FilingFact,
    HomeBedFact,
    InstitutionFact,
    OrderFact,
    RoundVisitFact,
)
from services.indicators.settings import IndicatorsSettings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings

SECRET = "bench-indicators-secret"
BASE = "/api/v1/indicators"
DEMO = {"institutions": 1_400, "agreements": 2_600, "visits": 10_000, "home_beds": 2_000, "orders": 5_000}
SCALED = {**DEMO, "agreements": DEMO["agreements"] * 100, "orders": DEMO["orders"] * 100}
LAG_WRITES = 5
CHUNK = 5_000
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)


# ------------------------------------------------------------------------------------ the read model
def _meta(rng: random.Random, region: str) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "region_code": region,
        "version": 1,
        "source_seq": rng.randint(1, 10**9),
        "changed_at": EPOCH,
    }


def _institutions(rng: random.Random, counties: list[str], count: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(count):
        county = rng.choice(counties)
        kind = rng.choices(["medical", "elderly_care", "integrated"], [40, 45, 15])[0]
        category = {
            "medical": rng.choice(["hospital", "community_health_center", "township_health_center"]),
            "elderly_care": rng.choices(
                ["elderly_care_home", "rural_happiness_home", "day_care_center"], [6, 3, 1]
            )[0],
            "integrated": "integrated_institution",
        }[kind]
        medical = kind != "elderly_care"
        rows.append(
            {
                **_meta(rng, county),
                "name": f"压测机构{uuid.uuid4().hex[:8]}",
                "kind": kind,
                "category": category,
                "active": rng.random() > 0.03,
                "has_medical_unit": medical,
                "hospital_grade": rng.choice(["grade_1", "grade_2", "grade_3", "ungraded"])
                if medical
                else None,
                "hospital_type": "general" if medical else None,
                "ownership": rng.choice(["public", "private"]),
                "elderly_care_ownership": None,
                "integrated_model": "medical_runs_elderly_care" if kind == "integrated" else None,
                "internet_nursing_provider": medical and rng.random() < 0.3,
                "home_bed_service": medical and rng.random() < 0.3,
                "beds_elderly_care": rng.choice([0, 0, 30, 80, 150])
                if kind != "medical"
                else rng.choice([0, 0, 0, 20]),
                "beds_medical": rng.choice([0, 50, 200]) if medical else 0,
                "beds_integrated": 0,
                "beds_nursing": 0,
                "beds_hospice": 0,
                "residents": rng.randint(0, 200) if kind != "medical" else 0,
                "elderly_green_channel": medical and rng.random() < 0.9,
                "hospice_care": medical and rng.random() < 0.1,
                "elderly_friendly": medical and rng.random() < 0.4,
                "elderly_friendly_year": None,
                "national_demonstration_year": None,
                "provincial_demonstration_year": None,
            }
        )
    return rows


def fill(rng: random.Random, scale: dict[str, int]) -> dict[type[Any], list[dict[str, Any]]]:
    counties = sorted(d.code for d in divisions.all_divisions() if d.level.value == "county")
    institutions = _institutions(rng, counties, scale["institutions"])
    medical = [i for i in institutions if i["kind"] != "elderly_care"]
    elderly = [i for i in institutions if i["kind"] != "medical"]
    filings = [
        {
            **_meta(rng, i["region_code"]),
            "institution_id": i["id"],
            "unit_kind": "clinic",
            "unit_name": None,
            "state": "accepted",
            "filing_no": None,
            "accepted_at": datetime(2024, 6, 1, tzinfo=UTC),
        }
        for i in elderly
        if i["kind"] == "elderly_care" and rng.random() < 0.2
    ]
    agreements = []
    for _ in range(scale["agreements"]):
        m, e = rng.choice(medical), rng.choice(elderly)
        start = date(2023, 1, 1) + timedelta(days=rng.randint(0, 1000))
        agreements.append(
            {
                **_meta(rng, e["region_code"]),
                "title": None,
                "state": rng.choices(
                    ["active", "countersigned", "expired", "terminated", "draft"], [70, 5, 10, 10, 5]
                )[0],
                "start_date": start,
                "end_date": start + timedelta(days=3 * 365),
                "activated_at": None,
                "expired_at": None,
                "terminated_at": None,
                "terminated_on": None,
                "visit_count": rng.choice([1, 2, 4]),
                "visit_period": rng.choice(["week", "month"]),
                "medical_institution_id": m["id"],
                "medical_name": m["name"],
                "medical_region_code": m["region_code"],
                "elderly_institution_id": e["id"],
                "elderly_name": e["name"],
                "elderly_region_code": e["region_code"],
            }
        )
    visits = []
    for _ in range(scale["visits"]):
        a = rng.choice(agreements[: DEMO["agreements"]])  # visits of the demo's agreements
        visits.append(
            {
                **_meta(rng, a["region_code"]),
                "agreement_id": a["id"],
                "medical_institution_id": a["medical_institution_id"],
                "elderly_institution_id": a["elderly_institution_id"],
                "visit_date": date(2025, 1, 1) + timedelta(days=rng.randint(0, 364)),
                "residents_seen": rng.randint(1, 30),
            }
        )
    providers = [i for i in medical if i["home_bed_service"]] or medical
    home_beds = []
    for _ in range(scale["home_beds"]):
        p = rng.choice(providers)
        home_beds.append(
            {
                **_meta(rng, p["region_code"]),
                "institution_id": p["id"],
                "provider_name": p["name"],
                "status": "opened",
                "opened_date": date(2024, 1, 1) + timedelta(days=rng.randint(0, 700)),
                "closed_date": None,
            }
        )
    orders = []
    for _ in range(scale["orders"]):
        p = rng.choice(providers)
        orders.append(
            {
                **_meta(rng, p["region_code"]),
                "institution_id": p["id"],
                "status": rng.choice(["completed", "completed", "cancelled", "submitted"]),
                "created_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 1_000_000)),
                "window_start": None,
                "nurse_practitioner_id": None,
                "home_bed_id": None,
            }
        )
    return {
        InstitutionFact: institutions,
        FilingFact: filings,
        AgreementFact: agreements,
        RoundVisitFact: visits,
        HomeBedFact: home_beds,
        OrderFact: orders,
    }


async def load(database: Database, tables: dict[type[Any], list[dict[str, Any]]]) -> None:
    for model, rows in tables.items():
        for start in range(0, len(rows), CHUNK):
            async with session_scope(database) as session:
                await session.execute(insert(model), rows[start : start + CHUNK])
    if not database.is_sqlite:
        async with database.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()


# ------------------------------------------------------------------------------------------ timing
async def timed(runs: int, call: Callable[[], Awaitable[httpx.Response]]) -> list[float]:
    await call()  # warm-up (caches, prepared statements)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await call()
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text[:500]
    return seconds


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


async def lag(registry: httpx.AsyncClient, indicators: httpx.AsyncClient, tokens: Tokens) -> list[float]:
    """Seconds from an institution created in the registry to the county's report counting it."""
    county = "350206"
    province = tokens.headers(Role.province_admin, "350000")

    async def counted() -> int:
        response = await indicators.get(
            f"{BASE}/report", params={"region": county, "period": "2025"}, headers=province
        )
        assert response.status_code == 200, response.text
        figures = {f["indicator"]: f for f in response.json()["region"]["figures"]}
        return int(figures["integrated_institutions"]["numerator"])

    await asyncio.sleep(6)  # the first poll of every feed is over
    seconds = []
    for n in range(LAG_WRITES):
        before = await counted()
        response = await registry.post(
            "/api/v1/registry/institutions",
            json={
                "name": f"压测医养结合机构{uuid.uuid4().hex[:6]}",
                "kind": "integrated",
                "category": "integrated_institution",
                "integrated_model": "medical_runs_elderly_care",
                "region_code": county,
            },
            headers=tokens.headers(Role.county_admin, county),
        )
        assert response.status_code == 201, response.text
        written = time.perf_counter()
        while await counted() == before:
            assert time.perf_counter() - written < 120, "not followed within 120 s"
            await asyncio.sleep(0.05)
        seconds.append(time.perf_counter() - written)
        await asyncio.sleep(1.3 * (n + 1) % 5)  # writes at different moments of the poll interval
    return seconds


async def bench(databases: TestDatabases, runs: int) -> dict[str, dict[str, list[float]]]:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    verifier = TokenVerifier(issuer=TEST_ISSUER, audience=TEST_AUDIENCE, static_jwks=issuer.jwks())
    tokens = Tokens(issuer)
    registry_app = create_registry_app(make_settings(RegistrySettings, databases), verifier=verifier)
    gateway_app = create_gateway_app(
        make_settings(
            GatewaySettings,
            databases,
            service_clients={"indicators": SECRET},
            registry_url="http://registry.bench",
            indicators_url="http://indicators.bench",
        ),
        issuer=issuer,
        upstream_mounts={"http://registry.bench": httpx.ASGITransport(app=registry_app)},
    )
    gateway_http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app), base_url="http://gateway"
    )
    settings = make_settings(
        IndicatorsSettings, databases, service_client_secret=SECRET, follow_interval_seconds=5.0
    )
    indicators_app = create_indicators_app(settings, verifier=verifier, gateway_http=gateway_http)
    province = tokens.headers(Role.province_admin, "350000")
    results: dict[str, dict[str, list[float]]] = {}
    async with (
        running(registry_app),
        running(gateway_app),
        running(indicators_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=indicators_app), base_url="http://i") as client,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=registry_app), base_url="http://r") as registry,
    ):
        database: Database = indicators_app.state.database
        async with session_scope(database) as session:
            await seed_reference(session)
        tables = fill(random.Random(13), SCALED)
        first = {AgreementFact: DEMO["agreements"], OrderFact: DEMO["orders"]}
        parts = {
            "demo": {model: rows[: first.get(model, len(rows))] for model, rows in tables.items()},
            "100x": {model: rows[first[model] :] for model, rows in tables.items() if model in first},
        }
        for scale_name, scale in (("demo", DEMO), ("100x", SCALED)):
            started = time.perf_counter()
            await load(database, parts[scale_name])
            print(f"  {scale_name}: read model filled in {time.perf_counter() - started:.1f} s {scale}")
            results[scale_name] = {
                "report (province + breakdown)": await timed(
                    runs,
                    lambda: client.get(f"{BASE}/report", params={"period": "2025"}, headers=province),
                ),
                "target evaluation": await timed(
                    runs, lambda: client.get(f"{BASE}/targets/evaluation", headers=province)
                ),
                "drill-down page (50)": await timed(
                    runs,
                    lambda: client.get(
                        f"{BASE}/report/agreement_coverage/records",
                        params={"period": "2025", "part": "gap", "limit": 50},
                        headers=province,
                    ),
                ),
                "follower lag": await lag(registry, client, tokens),
            }
    await gateway_http.aclose()
    return results


def _print(backend: str, results: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{backend} — {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"  {'measure':<30} {'demo median':>12} {'p95':>8} {'100x median':>12} {'p95':>8} {'ratio':>6}")
    for name in results["demo"]:
        demo, scaled = results["demo"][name], results["100x"][name]
        ratio = statistics.median(scaled) / statistics.median(demo)
        print(
            f"  {name:<30} {statistics.median(demo):>11.3f}s {p95(demo):>7.3f}s"
            f" {statistics.median(scaled):>11.3f}s {p95(scaled):>7.3f}s {ratio:>6.1f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    # only the registry runs here: the contracts and homecare followers fail and back off (quietly)
    logging.getLogger("services.indicators.followers").setLevel(logging.CRITICAL)
    print(f"indicators report benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.runs} runs each")
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            _print("SQLite", await bench(TestDatabases(Path(tmp), None), args.runs))
    if args.backend in ("postgresql", "both"):
        server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        name = f"bench_ind_{uuid.uuid4().hex[:8]}"
        try:
            url = await create_database(server, name)
        except (OSError, Exception) as exc:  # noqa: BLE001 - any failure to connect means "not available"
            print(f"\nPostgreSQL: not reachable at {make_url(server).render_as_string()} (skipped: {exc})")
            return
        try:
            with tempfile.TemporaryDirectory() as tmp:
                _print("PostgreSQL", await bench(TestDatabases(Path(tmp), url), args.runs))
        finally:
            await drop_database(server, name)


if __name__ == "__main__":
    asyncio.run(main())
