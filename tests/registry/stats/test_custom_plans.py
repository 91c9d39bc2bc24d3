"""On PostgreSQL the statistics are planned for the caller's actual scope and without JIT: each request's
GROUP BY runs after ``plan_cache_mode = force_custom_plan`` and ``jit = off`` are set for its transaction,
also from the sixth run of the prepared statement on, when PostgreSQL would otherwise switch to a generic
plan that takes the scope's ``region_code`` range for 0.5% of the rows (issue 16). SQLite gets none."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, text

from libs.common import aggregate_plans as plans
from libs.common.auth import Role
from libs.common.testing import Tokens

STATS = "/api/v1/registry/stats"
CUSTOM = "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)"


async def test_every_stats_request_is_planned_for_its_scope(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    engine = registry_app.state.database.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        callers = [tokens.headers(Role.province_admin)] * 7 + [tokens.headers(Role.city_admin, "350200")]
        for headers in callers:
            # each one counted afresh (not the page the response cache keeps while the data stays)
            fresh = {**headers, "Cache-Control": "no-cache"}
            response = await client.get(STATS, params={"group_by": "county"}, headers=fresh)
            assert response.status_code == 200, response.text
    finally:
        event.remove(engine, "before_cursor_execute", record)
    grouped = [i for i, s in enumerate(seen) if "GROUP BY" in s and "FROM institution_stats_cell" in s]
    assert len(grouped) == 8
    if engine.dialect.name == "postgresql":
        assert all(seen[i - 1] == CUSTOM for i in grouped), seen
        async with registry_app.state.database.session(write=False) as session:
            await session.execute(plans.PLAN_SETTINGS)
            settings = await session.execute(
                text("SELECT current_setting('plan_cache_mode'), current_setting('jit')")
            )
            assert tuple(settings.one()) == ("force_custom_plan", "off")
    else:
        assert not any("plan_cache_mode" in s for s in seen)
