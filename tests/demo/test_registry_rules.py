"""The registry's demo obeys the registry's rules (issue 14: bulk writes through each service's own write
path, so every rule and feed entry holds).

The demo institutions go through the registry's bulk writer, the code of ``POST /institutions/bulk``: a
generated record the rules refuse stops the seed, naming the record and the rule's code, and nothing of
the seed is written. The rules are those of identifiers.md (统一社会信用代码 with its GB 32100 check
character) and of the single write (a USCC belongs to one institution).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from demo import SeedRejected
from demo import registry as registry_demo
from demo.registry import Spec
from libs.common.auth import Principal, Role
from libs.common.database import Database, session_scope
from libs.common.keys import personal_data_cipher
from libs.common.migrations import upgrade_head_async
from libs.common.testing import TestDatabases, make_settings
from services.registry import models as _all_models  # noqa: F401  (every model)
from services.registry.institutions.bulk import upsert_from_platform
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import InstitutionBulkRequest
from services.registry.settings import RegistrySettings

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100's 31 characters (identifiers.md)


@pytest_asyncio.fixture(scope="module")
async def registry(test_databases: TestDatabases) -> AsyncIterator[tuple[Database, RegistrySettings]]:
    def url() -> str:
        return test_databases.postgres_url or f"sqlite+aiosqlite:///{test_databases.root / 'demo_rules.db'}"

    settings = make_settings(
        RegistrySettings, test_databases, database_url=url(), database_schema="demo_rules"
    )
    await upgrade_head_async(settings)
    database = Database(settings)
    try:
        yield database, settings
    finally:
        await database.dispose()


async def _seed(database: Database, settings: RegistrySettings) -> None:
    async with session_scope(database) as session:
        await registry_demo.seed_session(session, personal_data_cipher(settings))


async def _demo_rows(database: Database) -> int:
    async with database.session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Institution).where(Institution.source_system == "demo")
        )
    return int(count or 0)


async def test_a_generated_record_with_a_bad_uscc_check_character_stops_the_seed(
    registry: tuple[Database, RegistrySettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, settings = registry
    real = registry_demo.province
    spoiled: list[str] = []

    def province(rng: random.Random) -> tuple[list[Spec], Any]:
        specs, filings = real(rng)
        victim = next(s for s in specs if s.values["category"] == "township_health_center")
        uscc = str(victim.values["uscc"])
        victim.values["uscc"] = uscc[:17] + next(c for c in USCC_ALPHABET if c != uscc[17])
        spoiled.append(victim.name)
        return specs, filings

    monkeypatch.setattr(registry_demo, "province", province)
    with pytest.raises(SeedRejected) as caught:
        await _seed(database, settings)
    assert [name for name, _result in caught.value.rejected] == spoiled
    result = caught.value.rejected[0][1]
    assert result.code == "validation_failed"
    assert [e.field.rsplit(".", 1)[-1] for e in result.errors] == ["uscc"]
    assert spoiled[0] in str(caught.value)
    assert await _demo_rows(database) == 0  # the whole seed rolled back


async def test_a_generated_uscc_already_registered_to_another_institution_stops_the_seed(
    registry: tuple[Database, RegistrySettings],
) -> None:
    database, settings = registry
    specs, _filings = registry_demo.province(random.Random(350000))
    victim = next(
        s for s in specs if s.values["category"] == "clinic" and s.values["region_code"] == "350203"
    )
    platform_record = {**victim.values, "name": "思明区城市平台登记诊所", "external_id": "XM-0001"}
    async with session_scope(database) as session:
        pushed = await upsert_from_platform(
            session,
            Principal(sub="xm-platform", role=Role.province_admin, region_code="350000"),
            InstitutionBulkRequest(source_system="xm-ijk", records=[platform_record]),
            cipher=personal_data_cipher(settings),
            max_records=10,
        )
    assert pushed.counts.created == 1, pushed

    with pytest.raises(SeedRejected) as caught:
        await _seed(database, settings)
    assert [(name, result.code) for name, result in caught.value.rejected] == [(victim.name, "uscc_taken")]
    assert await _demo_rows(database) == 0
