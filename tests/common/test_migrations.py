"""Each service's migrations, applied from nothing, produce exactly its models (``alembic check``)."""

from __future__ import annotations

import asyncio

import pytest

from libs.common.migrations import check_models_match, upgrade_head
from libs.common.settings import ServiceSettings
from libs.common.testing import TestDatabases, make_settings
from services.contracts.settings import ContractsSettings
from services.gateway.settings import GatewaySettings
from services.homecare.settings import HomecareSettings
from services.registry.settings import RegistrySettings
from services.residents.settings import ResidentsSettings


@pytest.mark.parametrize(
    "settings_type",
    [RegistrySettings, ContractsSettings, HomecareSettings, GatewaySettings, ResidentsSettings],
)
async def test_migrations_from_empty_match_models(
    settings_type: type[ServiceSettings], test_databases: TestDatabases
) -> None:
    service = settings_type.model_fields["service_name"].default
    settings = make_settings(
        settings_type,
        test_databases,
        database_schema=f"{service}_migration_check",
        database_url=test_databases.url_for(f"{service}_migration_check"),
    )
    await asyncio.to_thread(upgrade_head, settings)
    await asyncio.to_thread(check_models_match, settings)
