"""The contracts demo obeys the contracts service's rules (issue 14: bulk writes through each service's
own write path).

The demo's signed agreements go through the agreements' bulk writer, the code of
``POST /agreements/bulk``: an agreement the rules refuse stops the seed, naming it and the rule's code,
and nothing of the seed is written. The rule used here is rules.md's: an agreement binds a medical
institution (甲方) with an elderly-care or integrated one (乙方).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from demo import SeedRejected
from demo import contracts as contracts_demo
from demo.contracts import HONGAI, LANXIN, DemoAgreement
from libs.common.database import Database
from libs.common.migrations import upgrade_head_async
from libs.common.testing import TestDatabases, make_settings
from services.contracts import models as _all_models  # noqa: F401  (every model)
from services.contracts.agreements.models import Agreement, ServiceKind
from services.contracts.settings import ContractsSettings


@pytest_asyncio.fixture(scope="module")
async def contracts(test_databases: TestDatabases) -> AsyncIterator[ContractsSettings]:
    url = test_databases.postgres_url or f"sqlite+aiosqlite:///{test_databases.root / 'demo_c_rules.db'}"
    settings = make_settings(
        ContractsSettings, test_databases, database_url=url, database_schema="demo_contracts_rules"
    )
    await upgrade_head_async(settings)
    yield settings


async def _agreements(settings: ContractsSettings) -> tuple[int, int]:
    database = Database(settings)
    try:
        async with database.session() as session:
            total = await session.scalar(select(func.count()).select_from(Agreement))
            keyed = await session.scalar(
                select(func.count()).select_from(Agreement).where(Agreement.source_system == "demo")
            )
    finally:
        await database.dispose()
    return int(total or 0), int(keyed or 0)


async def test_an_agreement_whose_first_party_is_not_medical_stops_the_seed(
    contracts: ContractsSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = contracts_demo.demo_agreements

    def demo_agreements(today: date) -> list[DemoAgreement]:
        wrong = DemoAgreement(  # 兰馨颐养院 is an elderly-care home: it cannot be the medical party
            LANXIN,
            HONGAI,
            today - timedelta(days=30),
            today + timedelta(days=335),
            (ServiceKind.medical_rounds,),
            1,
        )
        return [*real(today), wrong]

    monkeypatch.setattr(contracts_demo, "demo_agreements", demo_agreements)
    with pytest.raises(SeedRejected) as caught:
        await contracts_demo.seed(contracts)
    assert [(name.split(" ")[0], result.code) for name, result in caught.value.rejected] == [
        ("兰馨颐养院–厦门弘爱养护院", "party_wrong_kind")
    ]
    assert await _agreements(contracts) == (0, 0)  # the whole seed rolled back


async def test_the_signed_agreements_are_written_by_the_bulk_writer(contracts: ContractsSettings) -> None:
    await contracts_demo.seed(contracts)
    total, keyed = await _agreements(contracts)
    database = Database(contracts)
    try:
        async with database.session() as session:
            unsigned = await session.scalar(
                select(func.count())
                .select_from(Agreement)
                .where(Agreement.state.in_(("draft", "submitted")), Agreement.source_system.is_(None))
            )
    finally:
        await database.dispose()
    assert keyed > 0
    assert total == keyed + int(unsigned or 0)  # every other agreement came through the bulk writer
