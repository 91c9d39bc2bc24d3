"""What the sources now carry reaches the read model (issue 13, source fields): an institution's 老年友善
recognition year (``elder_friendly_rate`` for a year counts the recognitions up to it), the home bed an
order serves (``home_bed_satisfaction`` counts the ratings of closed home beds' orders), and the contracts'
双向转诊 referrals (``referrals``: count and response time in the period) — through the gateway, with the
indicators' own service client, which may read referrals from the contracts feed but no resident data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.database import session_scope
from services.indicators.clients.feeds import FeedEntry
from services.indicators.facts.apply import apply_entries
from services.indicators.facts.models import InstitutionFact, InstitutionYearStatFact, OrderFact, ReferralFact
from tests.cross_service.conftest import Live
from tests.cross_service.data import CONTRACTS, REGISTRY, Writer
from tests.indicators.conftest import Indicators
from tests.indicators.helpers import fact, service_headers

RESIDENT = {"name": "陈阿婆", "id_number": "11010519491231002X", "phone": "13912345678"}


async def test_a_recognition_year_and_a_referral_reach_the_read_model(
    indicators: Indicators, live: Live
) -> None:
    w = Writer(live)
    hospital = await w.institution("350206", "medical", elderly_friendly_year=2022)
    home = await w.institution("350206")
    agreement = await w.agreement(hospital, home)
    assert agreement["state"] == "active", agreement
    response = await live.contracts.post(
        f"{CONTRACTS}/referrals",
        json={
            "agreement_id": agreement["id"],
            "direction": "up",
            "urgency": "emergency",
            "reason": "夜间突发胸闷气促，需上转急诊评估",
            "resident": RESIDENT,
        },
        headers=w.admin(home),
    )
    assert response.status_code == 201, response.text
    referral = response.json()

    await indicators.followers["registry"].catch_up()
    await indicators.followers["contracts"].catch_up()

    row = await fact(indicators.database, InstitutionFact, hospital["id"])
    assert (row.elderly_friendly, row.elderly_friendly_year) == (True, 2022)
    stored = await fact(indicators.database, ReferralFact, referral["id"])
    assert stored is not None, "the contracts follower did not store the referral"
    assert (stored.agreement_id, stored.from_institution_id, stored.to_institution_id) == (
        uuid.UUID(agreement["id"]),
        uuid.UUID(home["id"]),
        uuid.UUID(hospital["id"]),
    )
    assert (stored.direction, stored.urgency, stored.state, stored.region_code) == (
        "up",
        "emergency",
        "requested",
        "350206",
    )
    assert stored.requested_at is not None
    # no resident data anywhere in the fact
    values = {str(getattr(stored, c.key)) for c in ReferralFact.__table__.columns}
    assert not {RESIDENT["name"], RESIDENT["id_number"], RESIDENT["phone"]} & values


async def test_the_indicators_client_may_read_referrals_from_the_contracts_feed(
    indicators: Indicators, platform: tuple[FastAPI, FastAPI]
) -> None:
    gateway_app, _ = platform
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app), base_url="http://gw"
    ) as http:
        headers = await service_headers(http, indicators.settings.service_client_secret, "contracts")
        feed = await http.get(
            f"{CONTRACTS}/changes", params={"entity_types": "agreement,visit,referral"}, headers=headers
        )
        assert feed.status_code == 200, feed.text


async def test_an_order_entry_keeps_the_home_bed_it_serves(indicators: Indicators) -> None:
    bed, order, plain = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)

    def entry(seq: int, entity_id: uuid.UUID, home_bed_id: uuid.UUID | None) -> FeedEntry:
        data = {"institution_id": str(uuid.uuid4()), "status": "completed", "created_at": now.isoformat()}
        return FeedEntry(
            seq=seq,
            entity_type="order",
            entity_id=entity_id,
            op="upsert",
            version=1,
            region_code="350206",
            changed_at=now,
            data={**data, "home_bed_id": str(home_bed_id) if home_bed_id else None},
        )

    async with session_scope(indicators.database) as session:
        await apply_entries(session, "homecare", [entry(1, order, bed), entry(2, plain, None)])
    assert (await fact(indicators.database, OrderFact, str(order))).home_bed_id == bed
    assert (await fact(indicators.database, OrderFact, str(plain))).home_bed_id is None


async def test_a_years_residents_reach_the_read_model(indicators: Indicators, live: Live) -> None:
    """入住 100 人以上 for year Y reads the residents of year Y (indicators.md: the reference date)."""
    w = Writer(live)
    home = await w.institution("350203", beds_elderly_care=150, residents=80)
    figures = {
        "operating_beds": 150,
        "occupied_bed_days": 43800,
        "residents": 120,
        "disabled_residents": 60,
        "dementia_residents": 10,
        "disabled_or_dementia_residents": 65,
    }
    put = await live.registry.put(
        f"{REGISTRY}/institutions/{home['id']}/year-stats/2025", json=figures, headers=w.county("350203")
    )
    assert put.status_code == 201, put.text
    await indicators.followers["registry"].catch_up()
    async with session_scope(indicators.database, write=False) as session:
        rows = (await session.scalars(select(InstitutionYearStatFact))).all()
    mine = [r for r in rows if r.institution_id == uuid.UUID(home["id"])]
    assert [(r.year, r.residents, r.operating_beds, r.region_code) for r in mine] == [
        (2025, 120, 150, "350203")
    ]
