"""A service app freezes what start-up allocated while it runs (gc_freeze_after_start, issue 16) and thaws it
at shutdown; tests' settings leave the collector alone."""

from __future__ import annotations

import gc

from libs.common.auth import TokenVerifier
from libs.common.testing import TestDatabases, make_settings, running
from services.registry.app import create_app
from services.registry.settings import RegistrySettings


async def test_the_heap_is_frozen_while_the_app_runs(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> None:
    settings = make_settings(RegistrySettings, test_databases, gc_freeze_after_start=True)
    app = create_app(settings, verifier=token_verifier)
    assert gc.get_freeze_count() == 0
    try:
        async with running(app):
            # everything alive after start-up is outside the collector's generations
            assert gc.get_freeze_count() > 10_000
        assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()


async def test_tests_do_not_freeze(test_databases: TestDatabases, token_verifier: TokenVerifier) -> None:
    settings = make_settings(RegistrySettings, test_databases)
    assert settings.gc_freeze_after_start is False
    async with running(create_app(settings, verifier=token_verifier)):
        assert gc.get_freeze_count() == 0
