"""Planner statistics after a follower's bulk catch-up.

A follower catching up a feed writes thousands of fact rows a minute. PostgreSQL plans the report's
statements with statistics that ANALYZE (or autovacuum's) gathered; until one runs on a table filled
from empty, the planner guesses its row counts and selectivities, and a correlated lookup can then read
a whole date range once per row (the signing rate: 6.7 s instead of 60 ms at scale S). Autovacuum gets
there in time — unless it is off, or busy. So a follower that has applied at least
:data:`ANALYZE_AFTER_ENTRIES` entries since it last analysed analyses its feed's fact tables once it is
caught up, and every :data:`ANALYZE_DURING_CATCH_UP` entries of a long catch-up (SQLite: nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from libs.common.database import Database, session_scope
from services.indicators.facts.models import FactColumns

#: entries applied since the last ANALYZE that make a caught-up follower analyse its tables
ANALYZE_AFTER_ENTRIES: Final = 5_000
#: entries applied since the last ANALYZE that make a follower still catching up analyse its tables
ANALYZE_DURING_CATCH_UP: Final = 200_000

log = logging.getLogger(__name__)


def due(entries_since: int, *, caught_up: bool) -> bool:
    """Whether a follower that applied ``entries_since`` entries since it last analysed should now."""
    return entries_since >= (ANALYZE_AFTER_ENTRIES if caught_up else ANALYZE_DURING_CATCH_UP)


async def analyze(database: Database, models: Sequence[type[FactColumns]]) -> bool:
    """ANALYZE the tables of ``models`` (PostgreSQL only); whether it did. A failure is logged, never
    raised: the page is applied already, and autovacuum (or the next catch-up) analyses later."""
    if database.engine.dialect.name != "postgresql":
        return False
    try:
        async with session_scope(database) as session:
            for model in models:
                await session.execute(text(f'ANALYZE "{model.__tablename__}"'))  # type: ignore[attr-defined]
    except (SQLAlchemyError, OSError):
        log.warning("could not analyse the fact tables", exc_info=True)
        return False
    return True
