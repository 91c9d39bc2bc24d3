"""Plan settings for the statistics statements (registry stats, coverage, homecare reports, indicators).

PostgreSQL, for the current transaction only (``set_config(..., true)``, like ``SET LOCAL``; one round
trip): plan each statement for its actual scope bounds, and no JIT compilation (issue 16).

A prepared statement run a sixth time may switch to a generic plan, which guesses that ``region_code >= $1
AND region_code < $2`` keeps 0.5% of the rows and scans the region index; for a province or city scope
(most rows) that is several times slower than a scan (860 ms instead of 160 ms at 200,000 orders). And an
aggregate whose estimated cost passes ``jit_above_cost`` is JIT-compiled first, which costs more than it
saves on these statements (the indicators report at 200,000 orders: 17 s with JIT, 1.1 s without).
List endpoints keep the defaults: their generic plans are right and save the planning."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PLAN_SETTINGS = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), set_config('jit', 'off', true)"
)


async def plan_for_aggregates(session: AsyncSession) -> None:
    """Custom plans and no JIT for the rest of this transaction (PostgreSQL; nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(PLAN_SETTINGS)
