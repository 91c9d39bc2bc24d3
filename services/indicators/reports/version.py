"""The version of the reports' pages on the response cache (``libs/common/response_cache.py``, issue 16).

A report page (``/report``, ``/series``, ``/targets/evaluation``) is made of:

1. **the facts** — the twelve fact tables the followers fill from the registry's, contracts',
   homecare's and residents' feeds (``facts/models.py``);
2. **the reference data** — ``reference_version``, ``population``, ``target`` (the current load of each
   dataset);
3. **which feeds are live** — ``feed_cursor``: the feeds whose ``last_seq`` is set (``service.live``);
4. **the day it is asked on** — the renewal rate's "end date has passed" reads today (``Period.today``,
   the app's clock, Asia/Shanghai);
5. constants of the process: the indicator catalogue, the baselines file, the divisions, the settings
   (``target_min_coverage``, in the key), the caller's view and the parameters (in the key).

The version is ``(counter, today)``: ``counter`` is ``report_data_version.counter``, which triggers of
migration ``indicators_0009`` raise in the writing transaction on every INSERT, UPDATE, DELETE and
TRUNCATE of each table of 1 and 2, and on every write of ``feed_cursor`` that changes 3 (a row added or
removed, ``last_seq`` set or unset, the feed renamed); ``today`` is 4. Why it moves with every change:

- **Every writer**: a trigger fires whoever writes — the followers' page apply (``facts/apply.py``: Core
  INSERT / UPDATE / DELETE), the rebuild's ``clear``, a reference load (``reference/loading.py``; the
  ``population`` and ``target`` rows of a version removed by its ``ON DELETE CASCADE``), the demo seed,
  a migration's data step, psql. The only ways around it are to disable triggers (``ALTER TABLE …
  DISABLE TRIGGER``, ``session_replication_role = replica`` as ``pg_restore --disable-triggers`` sets
  it) or to recreate a table without them; ``tests/indicators/reports/test_cache.py`` checks that
  every table the report's statements name carries the triggers.
- **In the same transaction**: the counter moves atomically with the data: a reader sees both or
  neither (PostgreSQL: read committed, each statement sees the latest commits; SQLite: one writer, its
  commit is atomic). ``cached_page`` reads the version before the page is made and again after, and
  keeps the page only if it did not move meanwhile, so a page is kept only under a version whose data
  it was made from.
- **Never back**: the counter only grows (one row, ``counter + 1``), so a version seen once never comes
  back with other data.
- **The day**: read from the app's clock once per request and given both to the statements (with the
  period, ``Period.today``) and to the version: a page made on one day is kept under that day only, and
  a request of another day reads another version (a page made across midnight is kept under the day its
  statements were given, which later requests no longer ask for).
- **Constants**: a deploy (new catalogue, baselines, settings) restarts the process, whose cache is in
  its memory: it starts empty.

The cost: on PostgreSQL one UPDATE of one row per writing statement (statement-level triggers) and a row
lock the writers of those tables take in turn until they commit; on SQLite (row-level triggers only) one
UPDATE per row written. Writers take the locks in one order (a feed's cursor row, then the counter; the
rebuild's ``clear`` removes the cursors first) so they never deadlock.

Not marked ``@early_cache_hits`` (``libs/common/cached_routes.py``): its early lookup reads the change
feed's head, which these tables do not move (the indicators' facts are not change-tracked). A hit goes
through FastAPI: the dependencies, one statement for the version.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.response_cache import Version
from services.indicators.reports.models import ReportDataVersion

_COUNTER = select(ReportDataVersion.counter).where(ReportDataVersion.id == 1)


async def data_counter(session: AsyncSession) -> int:
    """``report_data_version.counter``: moved by every write of what the reports read (module doc)."""
    return int((await session.execute(_COUNTER)).scalar_one())


def report_version(today: date) -> Version:
    """The version reader of a page made on ``today`` (the request's day): the counter, read at each
    call, and that day."""
    day = today.isoformat()

    async def version(session: AsyncSession) -> Hashable:
        return (await data_counter(session), day)

    return version
