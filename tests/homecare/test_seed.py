from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo import demo_id
from demo.homecare import seed
from libs.common.database import Database, session_scope
from libs.common.migrations import upgrade_head_async
from libs.common.testing import TestDatabases, make_settings
from services.homecare.catalog.models import CatalogItem
from services.homecare.orders.models import Order, OrderStatus
from services.homecare.providers.models import Provider
from services.homecare.settings import HomecareSettings


async def test_the_demo_seed_is_idempotent_and_assigns_lin_xiaoyan_today(
    test_databases: TestDatabases, tmp_path: Path
) -> None:
    settings = make_settings(
        HomecareSettings, test_databases, database_url=f"sqlite+aiosqlite:///{tmp_path / 'seed.db'}"
    )
    await upgrade_head_async(settings)
    await seed(settings)
    await seed(settings)
    database = Database(settings)
    try:
        async with session_scope(database) as session:
            assert await session.scalar(select(func.count()).select_from(CatalogItem)) == 39
            assert await session.scalar(select(func.count()).select_from(Provider)) == 2
            statuses = set(await session.scalars(select(Order.status)))
            today = await session.get(Order, demo_id("order", "today-linxiaoyan"))
    finally:
        await database.dispose()
    assert len(statuses) >= 5
    assert today is not None
    assert today.status is OrderStatus.assigned
    assert today.nurse_practitioner_id == demo_id("practitioner", "林晓燕")


async def test_the_seed_refuses_production(test_databases: TestDatabases, tmp_path: Path) -> None:
    settings = make_settings(
        HomecareSettings,
        test_databases,
        environment="production",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'prod.db'}",
    )
    with pytest.raises(SystemExit):
        await seed(settings)
