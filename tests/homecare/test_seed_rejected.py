"""The homecare demo writes its recipients and orders through the service's own rules: a record those
rules refuse stops the seed, naming the record and the rule's code (``SeedRejected``), and writes
nothing of it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from demo import SeedRejected, demo_id
from demo.homecare import RECIPIENTS, seed
from demo.homecare_orders import DemoPractitioners, import_history, write_recipients
from demo.province import Province
from libs.common.database import Database, session_scope
from libs.common.keys import personal_data_cipher
from libs.common.migrations import upgrade_head_async
from libs.common.testing import TestDatabases, make_settings
from services.homecare import clock
from services.homecare.orders.models import Order
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings


@pytest.fixture
async def seeded(test_databases: TestDatabases, tmp_path: Path) -> HomecareSettings:
    settings = make_settings(
        HomecareSettings, test_databases, database_url=f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}"
    )
    await upgrade_head_async(settings)
    await seed(settings)
    return settings


def _past_order(key: str, nurse: str) -> dict[str, Any]:
    start = clock.now() - timedelta(days=5)
    at = [start - timedelta(minutes=60 - 10 * k) for k in range(6)]
    return {
        "external_id": str(demo_id("order", key)),
        "institution_id": str(demo_id("institution", "厦门新开元医院")),
        "recipient_id": str(demo_id("recipient", "陈秀英")),
        "item_codes": ["HC01"],
        # the address given (each test run's cipher is new: the seed's stored address is not readable here)
        "address": RECIPIENTS[0]["address"],
        "region_code": RECIPIENTS[0]["region"],
        "latitude": RECIPIENTS[0]["lat"],
        "longitude": RECIPIENTS[0]["lng"],
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
        "status": "completed",
        "service_group": "chronic",
        "nurse_practitioner_id": str(demo_id("practitioner", nurse)),
        "timeline": {
            "submitted_at": at[0].isoformat(),
            "assessed_at": at[1].isoformat(),
            "accepted_at": at[2].isoformat(),
            "assigned_at": at[3].isoformat(),
            "departed_at": at[4].isoformat(),
            "checked_in_at": at[5].isoformat(),
            "checked_out_at": (start + timedelta(minutes=60)).isoformat(),
            "completed_at": (start + timedelta(minutes=65)).isoformat(),
        },
        "visit_record": {"items_done": ["HC01"]},
    }


async def test_a_past_order_by_an_ineligible_nurse_stops_the_seed(seeded: HomecareSettings) -> None:
    database = Database(seeded)
    try:
        with pytest.raises(SeedRejected) as refused:
            async with session_scope(database) as session:
                # 王丽: 护士, 2 years — not eligible for home visits (rules.md)
                await import_history(
                    session,
                    personal_data_cipher(seeded),
                    seeded,
                    DemoPractitioners(Province([], [])),
                    [_past_order("refused-wangli", "王丽"), _past_order("fine-linxiaoyan", "林晓燕")],
                )
        assert refused.value.codes == ["nurse_not_eligible"]
        assert str(demo_id("order", "refused-wangli")) in str(refused.value)
        async with session_scope(database, write=False) as session:
            written = await session.scalar(
                select(func.count())
                .select_from(Order)
                .where(
                    Order.id.in_([demo_id("order", "refused-wangli"), demo_id("order", "fine-linxiaoyan")])
                )
            )
        assert written == 0
    finally:
        await database.dispose()


async def test_a_recipient_with_a_bad_id_number_stops_the_seed(seeded: HomecareSettings) -> None:
    named = RECIPIENTS[0]
    record = {
        "external_id": str(demo_id("recipient", "林阿婆")),
        "institution_id": str(demo_id("institution", "厦门新开元医院")),
        "name": "林阿婆",
        "id_number": named["id"][:17] + ("0" if named["id"][17] != "0" else "1"),  # a wrong check character
        "address": named["address"],
        "region_code": named["region"],
        "consent": {"given_at": "2026-11-01T01:00:00Z", "method": "written", "signed_by": "family"},
    }
    database = Database(seeded)
    try:
        with pytest.raises(SeedRejected) as refused:
            async with session_scope(database) as session:
                await write_recipients(session, personal_data_cipher(seeded), [record])
        assert refused.value.codes == ["validation_failed"]
        assert "records.0.id_number" in str(refused.value)
        async with session_scope(database, write=False) as session:
            assert await session.get(Recipient, demo_id("recipient", "林阿婆")) is None
    finally:
        await database.dispose()
