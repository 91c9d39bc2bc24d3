"""The demo seed: a whole province, the briefing's named records with their demo ids, idempotent."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from demo import demo_id
from demo.registry import KINMEN, seed_session
from libs.common import divisions
from libs.common.auth import Role
from libs.common.changes import write_pending_changes
from libs.common.testing import Tokens

NAMED = {
    "兰馨颐养院": ("elderly_care", "350206"),
    "厦门新开元医院": ("medical", "350206"),
    "厦门莲花医院": ("medical", "350203"),
    "厦门弘爱养护院": ("integrated", "350206"),
    "厦门市莲花爱心护理院": ("integrated", "350203"),
    "福州市社会福利院": ("elderly_care", "350104"),
    "晋江市中医院": ("medical", "350582"),
}


async def _seed(app: FastAPI) -> dict[str, int]:
    async with app.state.database.session() as session:
        added = await seed_session(session, app.state.cipher)
        await session.flush()
        await write_pending_changes(session)
        await session.commit()
    return added


@pytest.fixture
async def seeded(client: httpx.AsyncClient, registry_app: FastAPI) -> dict[str, int]:
    return await _seed(registry_app)


async def test_seed_is_a_whole_province_and_idempotent(
    seeded: dict[str, int], client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    assert 1000 <= seeded["institutions"] <= 1600
    assert seeded["practitioners"] > 500
    again = await _seed(registry_app)
    assert again == {"institutions": 0, "filings": 0, "year_stats": 0, "practitioners": 0}
    stats = await client.get(
        "/api/v1/registry/stats", params={"group_by": "county"}, headers=tokens.headers(Role.province_admin)
    )
    groups = {g["region_code"]: g["institutions"] for g in stats.json()["groups"]}
    counties = [d.code for d in divisions.all_divisions() if d.level is divisions.DivisionLevel.county]
    assert all(groups[code] > 0 for code in counties if code != KINMEN)
    assert (
        stats.json()["totals"]["by_kind"]["integrated"] > 60
    )  # kind integrated; filed homes are 医养结合 too


async def test_named_institutions_have_their_demo_ids(
    seeded: dict[str, int], client: httpx.AsyncClient, tokens: Tokens
) -> None:
    for name, (kind, region) in NAMED.items():
        response = await client.get(
            f"/api/v1/registry/institutions/{demo_id('institution', name)}",
            headers=tokens.headers(Role.province_admin),
        )
        assert response.status_code == 200, name
        body: dict[str, Any] = response.json()
        assert (body["name"], body["kind"], body["region_code"]) == (name, kind, region)
    xinkaiyuan = (
        await client.get(
            f"/api/v1/registry/institutions/{demo_id('institution', '厦门新开元医院')}",
            headers=tokens.headers(Role.province_admin),
        )
    ).json()
    assert xinkaiyuan["internet_nursing_provider"]
    assert xinkaiyuan["home_bed_service"]
    lanxin = (
        await client.get(
            f"/api/v1/registry/institutions/{demo_id('institution', '兰馨颐养院')}",
            headers=tokens.headers(Role.province_admin),
        )
    ).json()
    assert lanxin["has_medical_unit"] is True  # its 内设医务室 filing is accepted
    stats = await client.get(
        f"/api/v1/registry/institutions/{demo_id('institution', '兰馨颐养院')}/year-stats",
        headers=tokens.headers(Role.province_admin),
    )
    assert len(stats.json()) == 3


NAMED_PEOPLE = [
    ("林晓燕", "supervising_nurse", True),
    ("陈美玲", "senior_nurse", True),
    ("王丽", "nurse", False),
    ("张建国", "attending_physician", False),
]


async def test_named_practitioners_and_nurses_of_every_title(
    seeded: dict[str, int], client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers(Role.province_admin)
    for name, title, eligible in NAMED_PEOPLE:
        response = await client.get(
            f"/api/v1/registry/practitioners/{demo_id('practitioner', name)}", headers=headers
        )
        body = response.json()
        assert (body["name"], body["title"], body["homecare_eligible"]) == (name, title, eligible)
    for title in ("nurse", "senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse"):
        page = await client.get(
            "/api/v1/registry/practitioners", params={"title": title, "limit": 1}, headers=headers
        )
        assert page.json()["items"], title
