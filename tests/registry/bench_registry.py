"""Latency of the registry's list, search, nearby and stats on a seeded province (measured, not asserted).

Run: ``.venv/bin/python -m tests.registry.bench_registry [--postgres] [--runs N]``

Builds a fresh database (SQLite in a temp dir; with ``--postgres`` a throwaway database on
``TEST_POSTGRES_URL`` or 127.0.0.1:5432), migrates it, loads the demo seed (~1,480 institutions,
~1,200 practitioners), then times each request in-process through the ASGI app (HTTP handling and
JSON included) and prints the median and 95th percentile in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from demo import demo_id
from demo.registry import seed_session
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.changes import write_pending_changes
from libs.common.database import session_scope
from libs.common.testing import running
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database


def _headers(
    issuer: TokenIssuer, role: Role, region: str, institution_id: uuid.UUID | None = None
) -> dict[str, str]:
    principal = Principal(sub=f"bench:{role}", role=role, region_code=region, institution_id=institution_id)
    token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def _time(runs: int, call: Callable[[], Awaitable[httpx.Response]]) -> tuple[float, float]:
    for _ in range(3):  # warm-up (statement caches, imports)
        (await call()).raise_for_status()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _getter(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
) -> Callable[[], Awaitable[httpx.Response]]:
    async def call() -> httpx.Response:
        return await client.get(path, params=params, headers=headers)

    return call


async def bench(settings: RegistrySettings, runs: int) -> list[tuple[str, float, float]]:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    async with running(app):
        started = time.perf_counter()
        async with session_scope(app.state.database) as session:  # the app's own cipher (test keys are fresh)
            await seed_session(session, app.state.cipher)
            await session.flush()
            await write_pending_changes(session)
        print(f"  seed: {time.perf_counter() - started:.2f}s")
        province = _headers(issuer, Role.province_admin, "350000")
        city = _headers(issuer, Role.city_admin, "350200")
        county = _headers(issuer, Role.county_admin, "350206")
        hospital = _headers(
            issuer, Role.institution_admin, "350206", demo_id("institution", "厦门新开元医院")
        )
        base = "/api/v1/registry"
        cases: list[tuple[str, str, dict[str, Any], dict[str, str]]] = [
            ("list, province, first page of 50", f"{base}/institutions", {}, province),
            ("list, province, page 5 (cursor)", f"{base}/institutions", {"cursor": "PAGE5"}, province),
            (
                "list, kind=integrated & home_bed_service",
                f"{base}/institutions",
                {"kind": "integrated", "home_bed_service": "true"},
                province,
            ),
            (
                "list, city 厦门, beds_elderly_care_min=100",
                f"{base}/institutions",
                {"beds_elderly_care_min": 100},
                city,
            ),
            ("list, county 湖里", f"{base}/institutions", {}, county),
            ("search q=卫生院 (province)", f"{base}/institutions", {"q": "卫生院"}, province),
            ("search q=莲花 (province)", f"{base}/institutions", {"q": "莲花"}, province),
            (
                "nearby 10 km of 湖里, kind=medical",
                f"{base}/institutions/nearby",
                {"lat": 24.513, "lng": 118.146, "radius_km": 10, "kind": "medical"},
                province,
            ),
            ("stats group_by=city (province)", f"{base}/stats", {"group_by": "city"}, province),
            ("stats group_by=county (province)", f"{base}/stats", {"group_by": "county"}, province),
            (
                "practitioners homecare_eligible (province)",
                f"{base}/practitioners",
                {"homecare_eligible": "true"},
                province,
            ),
            (
                "directory, a hospital's partners nearest first",
                f"{base}/directory/institutions",
                {},
                hospital,
            ),
            (
                "directory, nearest first, page 5 (cursor)",
                f"{base}/directory/institutions",
                {"cursor": "DIRECTORY5"},
                hospital,
            ),
            ("directory, q=颐养 nearest first", f"{base}/directory/institutions", {"q": "颐养"}, hospital),
            (
                "get one institution",
                f"{base}/institutions/{demo_id('institution', '厦门新开元医院')}",
                {},
                province,
            ),
        ]
        results = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            cursor = None
            for _ in range(4):
                page = (
                    await client.get(
                        f"{base}/institutions", params={"cursor": cursor} if cursor else {}, headers=province
                    )
                ).json()
                cursor = page["next_cursor"]
            directory_cursor = None
            for _ in range(4):
                query: dict[str, str] = {"cursor": directory_cursor} if directory_cursor else {}
                page = (
                    await client.get(f"{base}/directory/institutions", params=query, headers=hospital)
                ).json()
                directory_cursor = page["next_cursor"]
            for label, path, params, headers in cases:
                if params.get("cursor") == "PAGE5":
                    params = {"cursor": cursor}
                if params.get("cursor") == "DIRECTORY5":
                    params = {"cursor": directory_cursor}
                median, p95 = await _time(runs, _getter(client, path, params, headers))
                results.append((label, median, p95))
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="benchmark on PostgreSQL instead of SQLite")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    async with bench_database("registry", postgres=args.postgres) as database:
        settings = RegistrySettings(**database)
        results = await bench(settings, args.runs)
    print(f"  {'request':<48} {'median ms':>10} {'p95 ms':>8}")
    for label, median, p95 in results:
        print(f"  {label:<48} {median:>10.1f} {p95:>8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
