from __future__ import annotations

import pytest
from sqlalchemy import func, select

from demo import demo_id
from demo.contracts import seed
from libs.common.database import Database
from libs.common.migrations import upgrade_head_async
from libs.common.models import AuditRecord, ChangeRecord
from libs.common.testing import TestDatabases, make_settings
from services.contracts.agreements.models import Agreement
from services.contracts.clock import Clock
from services.contracts.referrals.models import Referral
from services.contracts.settings import ContractsSettings
from services.contracts.visits.models import Visit


def _settings(test_databases: TestDatabases, **overrides: object) -> ContractsSettings:
    # a database (SQLite) or schema (PostgreSQL) of its own, so the committed demo data stays apart
    url = test_databases.postgres_url or f"sqlite+aiosqlite:///{test_databases.root / 'contracts_seed.db'}"
    return make_settings(
        ContractsSettings, test_databases, database_url=url, database_schema="contracts_seed", **overrides
    )


async def test_seed_is_idempotent_and_tells_the_demo_story(
    test_databases: TestDatabases, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(test_databases)
    await upgrade_head_async(settings)
    await seed(settings)
    await seed(settings)
    assert capsys.readouterr().out.splitlines()[-1] == "contracts: 0 demo records added"
    database = Database(settings)
    try:
        async with database.session() as session:
            agreements = (await session.scalars(select(Agreement).order_by(Agreement.start_date))).all()
            visits = await session.scalar(select(func.count(Visit.id)))
            referral = await session.scalar(  # written through POST /referrals/bulk, keyed by its demo id
                select(Referral).where(
                    Referral.source_system == "demo",
                    Referral.external_id == str(demo_id("referral", "兰馨颐养院-李秀英")),
                )
            )
    finally:
        await database.dispose()
    today = Clock().today()
    by_pair = {(a.medical_name, a.elderly_name, a.state.value) for a in agreements}
    assert ("厦门新开元医院", "兰馨颐养院", "active") in by_pair
    assert ("厦门莲花医院", "厦门市莲花爱心护理院", "active") in by_pair
    assert ("厦门新开元医院", "厦门弘爱养护院", "draft") in by_pair
    assert ("厦门莲花医院", "兰馨颐养院", "expired") in by_pair
    expiring = next(a for a in agreements if a.elderly_name == "厦门市莲花爱心护理院")
    assert 0 < (expiring.end_date - today).days <= 30
    assert {a.elderly_institution_id for a in agreements} >= {demo_id("institution", "兰馨颐养院")}
    assert visits == 8
    assert referral is not None
    assert referral.state == "admitted"


async def test_every_demo_record_came_through_the_service_s_write_paths(
    test_databases: TestDatabases,
) -> None:
    """Issue 14: the historical import writes each demo agreement, visit and referral (keyed in source
    system ``demo``), with the single writes' audit record and change-feed entry each; nothing is
    inserted beside it."""
    settings = _settings(test_databases)
    await upgrade_head_async(settings)
    await seed(settings)
    database = Database(settings)
    try:
        async with database.session() as session:
            for model, entity in ((Agreement, "agreement"), (Visit, "visit"), (Referral, "referral")):
                rows = await session.scalar(select(func.count()).select_from(model))
                keyed = await session.scalar(
                    select(func.count()).select_from(model).where(model.source_system == "demo")
                )
                audited = await session.scalar(
                    select(func.count(func.distinct(AuditRecord.entity_id))).where(
                        AuditRecord.entity_type == entity, AuditRecord.action == f"{entity}.create"
                    )
                )
                fed = await session.scalar(
                    select(func.count(func.distinct(ChangeRecord.entity_id))).where(
                        ChangeRecord.entity_type == entity
                    )
                )
                assert rows, entity
                assert rows == keyed == audited == fed, (entity, rows, keyed, audited, fed)
    finally:
        await database.dispose()


async def test_seed_refuses_production(test_databases: TestDatabases) -> None:
    settings = _settings(test_databases, environment="production")
    with pytest.raises(SystemExit):
        await seed(settings)
