"""The indicators' migrations from an empty database match its models (on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

from libs.common.migrations import check_models_match, upgrade_head
from libs.common.testing import TestDatabases, make_settings
from services.indicators.settings import IndicatorsSettings


async def test_migrations_from_empty_match_models(test_databases: TestDatabases) -> None:
    settings = make_settings(
        IndicatorsSettings,
        test_databases,
        database_schema="indicators_migration_check",
        database_url=test_databases.url_for("indicators_migration_check"),
    )
    await asyncio.to_thread(upgrade_head, settings)
    await asyncio.to_thread(check_models_match, settings)
