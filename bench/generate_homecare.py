"""Orders of 互联网+护理服务 for the generator: each a copy of a finished demo order, earlier in time.

The templates are the demo's orders that reached an end (completed, rated, cancelled) outside a 家庭病床
episode. A copy keeps the template's provider, recipient, service address and county, catalog version,
items, fees, its nurse (eligible for those items at that provider: the demo's dispatch checked it), its
status and its whole record, and is moved back in time: copy generation g is shifted by g × ``STEP``, so
that the history at L covers about three years before the demo's. With the order come its children as the
service wrote them — the item snapshots, the rating, the nurse's visit record (one per order; its app
record id renewed), each with its change-feed entry (orders, items, ratings, visit records: what the
homecare feed exposes), and the event log (全程留痕, not in the feed; ten rows an order, so copied inside
the database by ``INSERT … SELECT``, its ids and client event ids derived from the copy's).

What a straight-SQL copy does not keep, and why it cannot matter for the measurements (they read lists,
filters, the feed and statistics of orders): one nurse's copied past orders may overlap in time (no
booking is written for a finished order — the service releases them — and overlap is checked only when a
nurse is dispatched); a recipient or nurse may appear in orders dated before they were registered; no
audit records; complaints and SOS alerts are not copied (the templates' are left with the templates).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.generate_rows import (
    Ids,
    Row,
    Table,
    change_entry,
    clone_by_map,
    copy,
    encode,
    encode_changes,
    fetch,
    table,
    write_changes,
)
from libs.common.models import ChangeTracked
from services.homecare import models as _homecare_models  # noqa: F401  (feed declarations)
from services.homecare.orders.models import Order, OrderItem, Rating
from services.homecare.orders.visits.models import VisitRecord

#: rows written per transaction (the tests set fewer, to write several)
BATCH = 10_000
SCHEMA = "homecare"
FINISHED = ("completed", "rated", "cancelled")
#: how far each copy generation is moved back: about three years over the ~520 generations of L
STEP = timedelta(days=2, hours=3)
#: the tracked children, copied here with their feed entries
_CHILDREN: dict[str, type[ChangeTracked]] = {
    "order_item": OrderItem,
    "rating": Rating,
    "visit_record": VisitRecord,
}
_RENEWED_IDS = {"visit_record": ("record_id",)}
#: the event log (not in the feed, ten rows an order) is copied inside the database, through this map
_MAP = "bench_order_map"
_TEMPLATE_EVENTS = "bench_template_event"


@dataclass
class _Batch:
    rows: dict[str, list[Row]]
    mapping: list[tuple[uuid.UUID, uuid.UUID, timedelta]]
    records: dict[str, list[list[Any]]] = field(default_factory=dict)  # the rows encoded for COPY
    changes: list[tuple[Any, ...]] = field(default_factory=list)  # their feed entries, encoded


def _moved(row: Row, columns: tuple[str, ...], shift: timedelta) -> None:
    for column in columns:
        value = row[column]
        if value is not None:
            row[column] = value - shift


def _datetime_columns(rows: list[Row]) -> tuple[str, ...]:
    return tuple(sorted({k for row in rows for k, v in row.items() if isinstance(v, datetime)}))


async def fill(
    conn: asyncpg.Connection, *, target: int, seed: int, batch: int | None = None
) -> dict[str, int]:
    """Add finished orders (with their children) until there are ``target``; return the rows added."""
    batch = batch or BATCH
    added: dict[str, int] = defaultdict(int)
    orders = await table(conn, SCHEMA, "service_order")
    present = int(await conn.fetchval(f'SELECT count(*) FROM "{SCHEMA}".service_order'))
    if present >= target:
        return dict(added)
    templates = await fetch(
        conn,
        orders,
        "WHERE status = ANY($1::varchar[]) AND home_bed_id IS NULL "
        "AND (external_id IS NULL OR external_id NOT LIKE 'bench-%')",
        list(FINISHED),
    )
    if not templates:
        raise LookupError("no finished demo order to copy: seed the demo first (deploy/local/run.py)")
    template_ids = [t["id"] for t in templates]
    children: dict[str, Table] = {}
    children_of: dict[str, dict[uuid.UUID, list[Row]]] = {}
    for name in _CHILDREN:
        children[name] = await table(conn, SCHEMA, name)
        grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
        for row in await fetch(conn, children[name], "WHERE order_id = ANY($1::uuid[])", template_ids):
            grouped[row["order_id"]].append(row)
        children_of[name] = grouped
    order_times = _datetime_columns(templates)
    child_times = {
        name: _datetime_columns([r for rows in children_of[name].values() for r in rows])
        for name in _CHILDREN
    }
    events = await table(conn, SCHEMA, "order_event")
    await conn.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_MAP} (template_id uuid, new_id uuid, shift interval)"
    )
    await conn.execute(f"DROP TABLE IF EXISTS {_TEMPLATE_EVENTS}")
    await conn.execute(
        f'CREATE TEMPORARY TABLE {_TEMPLATE_EVENTS} AS SELECT * FROM "{SCHEMA}".order_event '
        "WHERE order_id = ANY($1::uuid[])",
        template_ids,
    )
    await conn.execute(f"CREATE INDEX ON {_TEMPLATE_EVENTS} (order_id)")
    await conn.execute(f"ANALYZE {_TEMPLATE_EVENTS}")
    ids = Ids(seed, f"order:{present}")
    now = datetime.now(UTC)

    def build(first: int, count: int) -> _Batch:
        """The copies ``first`` … ``first + count - 1`` (runs in a thread while the previous batch is written;
        one at a time and in order, so ``ids`` draws the same sequence on every run)."""
        built = _Batch({"service_order": [], **{name: [] for name in _CHILDREN}}, [])
        for index in range(first, first + count):
            template = templates[index % len(templates)]
            shift = STEP * (index // len(templates) + 1)
            order: Row = {**template, "id": ids.uuid()}
            if order["source_system"] is not None:
                order["external_id"] = f"bench-{index}"
            _moved(order, order_times, shift)
            built.rows["service_order"].append(order)
            built.mapping.append((template["id"], order["id"], shift))
            for name in _CHILDREN:
                for child_template in children_of[name].get(template["id"], ()):
                    child: dict[str, Any] = {**child_template, "id": ids.uuid(), "order_id": order["id"]}
                    for column in _RENEWED_IDS.get(name, ()):
                        if child[column] is not None:
                            child[column] = ids.uuid()
                    _moved(child, child_times[name], shift)
                    built.rows[name].append(child)
        entries = [change_entry(Order, row, now) for row in built.rows["service_order"]]
        for name, model in _CHILDREN.items():
            entries.extend(change_entry(model, row, now) for row in built.rows[name])
        built.changes = encode_changes(entries)
        built.records = {"service_order": encode(orders, built.rows["service_order"])}
        built.records.update({name: encode(children[name], built.rows[name]) for name in _CHILDREN})
        return built

    def start(first: int) -> asyncio.Task[_Batch] | None:
        count = min(batch, target - first)
        return asyncio.create_task(asyncio.to_thread(build, first, count)) if count > 0 else None

    pending = start(present)
    while pending is not None:
        current = await pending
        first = present + added["service_order"] + len(current.mapping)
        pending = start(first)  # the next batch is built while this one is written
        async with conn.transaction():
            added["service_order"] += await copy(conn, orders, current.records["service_order"])
            for name in _CHILDREN:
                added[name] += await copy(conn, children[name], current.records[name])
            await conn.execute(f"TRUNCATE {_MAP}")
            await conn.copy_records_to_table(
                _MAP, records=current.mapping, columns=["template_id", "new_id", "shift"]
            )
            await conn.execute(f"ANALYZE {_MAP}")
            added["order_event"] += await clone_by_map(
                conn,
                events,
                parent_column="order_id",
                mapping=_MAP,
                templates=_TEMPLATE_EVENTS,
                renewed=("client_event_id",),
            )
            added["change_record"] += await write_changes(conn, SCHEMA, current.changes)
    return dict(added)
