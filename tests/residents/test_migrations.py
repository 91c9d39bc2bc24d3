from __future__ import annotations

import asyncio

from fastapi import FastAPI

from libs.common.migrations import check_models_match


async def test_migrations_and_models_agree(residents_app: FastAPI) -> None:
    # the app's lifespan ran the migrations; autogenerate must find nothing left to do
    await asyncio.to_thread(check_models_match, residents_app.state.settings)
