"""demo/homecare_beds.py writes the demo's catalog, providers and home beds through the homecare service's
own functions (issue 14): what the demo builds goes in with its demo ids, a rule the service applies
refuses a demo record (``SeedRejected`` naming it and the code), and a second run writes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from demo.homecare_beds import (
    DemoRegistry,
    SeedRejected,
    apply_home_bed,
    catalog_version,
    write_home_beds,
    write_providers,
)
from demo.province import Province
from libs.common.clock import CHINA_TZ, today_in_china
from services.homecare.clients.registry import InstitutionInfo, PractitionerInfo
from services.homecare.home_beds.models import HomeBed, HomeBedRound, HomeBedStatus, Mobility
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.settings import HomecareSettings
from tests.homecare.world import World

CATALOG = (
    Path(__file__).resolve().parents[2] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"
)


def _bed(institution: uuid.UUID, recipient: uuid.UUID, doctor: uuid.UUID | None, **extra: object) -> HomeBed:
    """A past bed as demo/homecare.py builds 陈秀英's (opened 20 days ago, a round 6 days ago)."""
    opened = today_in_china() - timedelta(days=20)
    at = datetime.combine(opened, time(10), tzinfo=CHINA_TZ)
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "record_no": f"JTBC-DEMO-{uuid.uuid4().hex[:6]}",
        "institution_id": institution,
        "provider_name": "测试医院",
        "region_code": "350206",
        "recipient_id": recipient,
        "status": HomeBedStatus.opened,
        "diagnosis": "脑梗死后遗症，长期卧床",
        "condition_stable": True,
        "mobility": Mobility.bedridden,
        "conditions": ["stroke_or_post_surgery_rehab", "tubes"],
        "has_family_doctor_contract": True,
        "applied_by_sub": "seed",
        "assessed_at": at - timedelta(hours=1),
        "assessed_by_practitioner_id": doctor,
        "assessment": {"qualified": True, "gaps": [], "note": "符合建床条件"},
        "opened_at": at,
        "opened_date": opened,
        "opened_by_practitioner_id": doctor,
        "care_plan": "每周查床一次",
        "consent_at": at,
        "round_interval_days": 7,
        "period_end_date": opened + timedelta(days=90),
        "last_round_date": opened + timedelta(days=14),
        "reassessment_count": 0,
    }
    values.update(extra)
    return HomeBed(**values)


async def test_the_demo_writes_providers_and_beds_through_the_service_and_a_rerun_writes_nothing(
    world: World, homecare_app: FastAPI
) -> None:
    inst = await world.provider()  # provider settings first: a recipient is registered with a provider
    doctor = await world.practitioner(inst, kind="doctor")
    recipient = uuid.UUID((await world.recipient(inst))["id"])
    other = uuid.UUID((await world.recipient(inst))["id"])
    registry = DemoRegistry(
        Province([], []),
        institutions=[
            InstitutionInfo(
                id=inst.id,
                name=inst.name,
                kind="medical",
                region_code="350206",
                internet_nursing_provider=True,
                home_bed_service=True,
            )
        ],
        practitioners=[PractitionerInfo(id=doctor, institution_id=inst.id, kind="doctor")],
    )
    settings: HomecareSettings = homecare_app.state.settings
    provider = Provider(institution_id=inst.id, institution_name=inst.name, visit_fee_yuan=Decimal("50.00"))
    items = [ProviderItem(institution_id=inst.id, item_code="HC01", price_yuan=Decimal("60.00"))]
    bed = _bed(inst.id, recipient, doctor)
    applied = _bed(inst.id, other, None, status=HomeBedStatus.applied)
    async with homecare_app.state.database.session() as session:
        stored = await catalog_version(session, code="inferred-1", source="x", filename="x.csv", content=b"")
        assert stored.code == "inferred-1"  # the data migration's: nothing published
        assert await write_providers(session, settings, registry, [provider], items) == 1  # HC01 repriced
        assert await write_home_beds(session, settings, registry, [bed]) == 1
        made = await apply_home_bed(session, settings, applied)
        assert made is not None
        assert made.status is HomeBedStatus.applied
        written = await session.get(HomeBed, bed.id)  # kept its demo id
        assert written is not None
        assert (written.status, written.opened_date, written.last_round_date) == (
            HomeBedStatus.opened,
            bed.opened_date,
            bed.last_round_date,
        )
        rounds = await session.scalar(select(func.count()).where(HomeBedRound.home_bed_id == bed.id))
        assert rounds == 1
        # a second run: nothing new
        assert await write_providers(session, settings, registry, [provider], items) == 0
        assert await write_home_beds(session, settings, registry, [bed]) == 0
        assert await apply_home_bed(session, settings, applied) is None
        content = CATALOG.read_bytes()
        published = await catalog_version(
            session,
            code=f"demo-{uuid.uuid4().hex[:6]}",
            source="演示",
            filename=CATALOG.name,
            content=content,
        )
        assert published.item_count == 39


async def test_a_demo_bed_the_rules_refuse_stops_the_seed_naming_it(
    world: World, homecare_app: FastAPI
) -> None:
    inst = await world.provider()
    recipient = uuid.UUID((await world.recipient(inst))["id"])
    registry = DemoRegistry(
        Province([], []),
        institutions=[
            InstitutionInfo(
                id=inst.id, name=inst.name, kind="medical", region_code="350206", home_bed_service=True
            )
        ],
    )
    settings: HomecareSettings = homecare_app.state.settings
    nobody = uuid.uuid4()  # not a doctor the registry knows
    async with homecare_app.state.database.session() as session:
        with pytest.raises(SeedRejected) as refused:
            await write_home_beds(session, settings, registry, [_bed(inst.id, recipient, nobody)])
    assert refused.value.codes == ["doctor_required"]
    assert "JTBC-DEMO-" in str(refused.value)
