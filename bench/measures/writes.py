"""Writes (issue 16, item 4): nurse visit records from many phones, and city-platform bulk sync.

**Visit records.** ``phones`` simulated phones (asyncio tasks; each holds a demo nurse's token — 林晓燕 of
厦门新开元医院 and 陈美玲 of 厦门莲花医院, shared round-robin) submit visit records through the gateway,
each with an ``Idempotency-Key``; a share of them (``retry_share``) is sent again with the same key and
body, as a phone does when the answer is lost. The orders are made beforehand through the API (placed by
the provider's admin, assessed, accepted, assigned to the nurse, the nurse's depart and check-in), so
each is in the state that takes a visit record. Afterwards the homecare database is asked: exactly one
record per key (the record's ``record_id``), none for a key that was never answered.

**Bulk sync.** The 厦门 city platform pushes ``POST /api/v1/registry/institutions/bulk`` batches of 1,000
new institutions for ``duration`` seconds; then the very rows the service wrote are upserted again, batch
by batch, into a scratch table of the same shape — with asyncpg (``COPY`` into a temporary table, then
``INSERT … ON CONFLICT (id) DO UPDATE``) on PostgreSQL, with ``executemany`` of the same ``INSERT … ON
CONFLICT`` on SQLite. The ratio of the rows per second is the figure (target ≥ 70 %).
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from bench.context import BenchContext, Section
from bench.measures.dashboards import service_engine
from libs.common.idempotency import REPLAY_HEADER
from libs.common.production import DEMO_CLIENT_SECRET
from services.gateway.demo_credentials import DEMO_CLIENT_ID
from services.homecare.catalog import templates
from services.homecare.orders.visits.models import VisitRecord

HC = "/api/v1/homecare"
#: service groups tried in turn at the first assessment of a crew (the recipient must fit it)
SERVICE_GROUPS = ("discharged", "rehabilitation", "frail_disabled_demented", "very_old", "chronic")
#: (admin, assessor, nurse) demo usernames of each provider whose nurse takes the phones' orders
CREWS = (
    ("xinkaiyuan_admin", "xinkaiyuan_doctor", "xinkaiyuan_nurse"),
    ("lianhua_admin", "lianhua_admin", "lianhua_nurse"),
)
BATCH = 1000
TARGET_BULK_SHARE = 0.70

# the record templates the stack serves (its visit records are checked against the current version)
_TEMPLATES = templates.load().current_version


class SetupFailed(RuntimeError):
    """The stack did not let the measure prepare its data (the answer is in the message)."""


def claims(token: str) -> dict[str, Any]:
    """The token's claims, read without verification (the services verify it; we only need ids)."""
    payload = token.split(".")[1]
    value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return value


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _expect(response: httpx.Response, *codes: int) -> dict[str, Any]:
    if response.status_code not in codes:
        raise SetupFailed(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


def _located(at: datetime) -> dict[str, Any]:
    return {
        "client_event_id": str(uuid.uuid4()),
        "client_at": at.isoformat(),
        "latitude": 24.5120,
        "longitude": 118.1460,
        "accuracy_m": 12.0,
        "is_mock_location": False,
    }


@dataclass
class Crew:
    admin: str
    assessor: str
    nurse: str
    institution_id: str
    recipient_id: str
    item_code: str
    service_group: str | None = None
    windows: int = 0
    base: datetime = field(default_factory=lambda: datetime.now(UTC))


async def _crew(client: httpx.AsyncClient, ctx: BenchContext, names: tuple[str, str, str]) -> Crew:
    admin_token = await ctx.token(names[0])
    institution_id = str(claims(admin_token)["institution_id"])
    headers = _bearer(admin_token)
    provider = _expect(
        await client.get(f"{ctx.gateway}{HC}/providers/{institution_id}", headers=headers), 200
    )
    # items whose record template asks for no photo or signature (the benchmark uploads none)
    items = [
        i["item_code"]
        for i in provider["items"]
        if i.get("enabled")
        and i.get("orderable", True)
        and not any(
            p.photos_min or p.signature_required
            for p in templates.required_parts(_TEMPLATES, [i["item_code"]])
        )
    ]
    recipients = _expect(await client.get(f"{ctx.gateway}{HC}/recipients?limit=50", headers=headers), 200)
    county = str(claims(admin_token)["region_code"])
    mine = [r for r in recipients["items"] if r["region_code"] == county]
    if not items or not mine:
        raise SetupFailed(f"{names[0]}: no orderable item or no recipient in its county")
    # the nurse's windows: consecutive 30-minute slots from a random day a month or more ahead (no clash
    # with the demo's own bookings, nor with another run on the same stack)
    base = (datetime.now(UTC) + timedelta(days=30 + random.SystemRandom().randrange(3000))).replace(
        minute=0, second=0, microsecond=0
    )
    crew = Crew(
        names[0], names[1], names[2], institution_id, mine[0]["id"], "HC01" if "HC01" in items else items[0]
    )
    crew.base = base
    return crew


async def _step(
    client: httpx.AsyncClient,
    url: str,
    token: str,
    etag: str,
    body: dict[str, Any] | None,
) -> tuple[dict[str, Any], str]:
    response = await client.post(url, json=body, headers={**_bearer(token), "If-Match": etag})
    return _expect(response, 200), response.headers.get("etag", "*")


async def _prepare_order(client: httpx.AsyncClient, ctx: BenchContext, crew: Crew) -> str:
    """One order of ``crew`` taken to ``checked_in`` through the API; its id."""
    admin, assessor, nurse = (
        await ctx.token(crew.admin),
        await ctx.token(crew.assessor),
        await ctx.token(crew.nurse),
    )
    start = crew.base + timedelta(minutes=30 * crew.windows)
    crew.windows += 1
    placed = await client.post(
        f"{ctx.gateway}{HC}/orders",
        json={
            "institution_id": crew.institution_id,
            "recipient_id": crew.recipient_id,
            "item_codes": [crew.item_code],
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(minutes=30)).isoformat(),
        },
        headers=_bearer(admin),
    )
    order = _expect(placed, 201)
    url = f"{ctx.gateway}{HC}/orders/{order['id']}"
    etag = placed.headers.get("etag", "*")
    groups = [crew.service_group] if crew.service_group else list(SERVICE_GROUPS)
    for group in groups:
        response = await client.post(
            f"{url}/assess", json={"service_group": group}, headers={**_bearer(assessor), "If-Match": etag}
        )
        if response.status_code == 200:
            crew.service_group = group
            etag = response.headers.get("etag", "*")
            break
    else:
        raise SetupFailed(f"assess refused every service group: {response.text[:300]}")
    _, etag = await _step(client, f"{url}/accept", admin, etag, None)
    nurse_id = str(claims(nurse)["practitioner_id"])
    _, etag = await _step(client, f"{url}/assign", admin, etag, {"nurse_practitioner_id": nurse_id})
    now = datetime.now(UTC)
    _, etag = await _step(
        client,
        f"{url}/depart",
        nurse,
        "*",
        {"client_event_id": str(uuid.uuid4()), "client_at": now.isoformat()},
    )
    await _step(client, f"{url}/check-in", nurse, "*", _located(now))
    return str(order["id"])


@dataclass
class Job:
    order_id: str
    nurse: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    record_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def record_body(job: Job, item_code: str, at: datetime) -> dict[str, Any]:
    return {
        "record_id": job.record_id,
        "client_created_at": at.isoformat(),
        "client_updated_at": at.isoformat(),
        "items_done": [item_code],
        "vital_signs": templates.SAMPLE_VITAL_SIGNS,
        "fields": templates.sample_fields(_TEMPLATES, [item_code]),
        "consumables": [{"name": "一次性护理包", "qty": 1, "unit_price_yuan": "8.50"}],
        "notes": "生命体征平稳",
    }


def _problem_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("code", response.status_code))
    except ValueError:
        return str(response.status_code)


@dataclass
class PhoneCounts:
    sent: int = 0
    created: int = 0
    replayed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    answered: list[Job] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


async def _phone(
    client: httpx.AsyncClient,
    ctx: BenchContext,
    queue: asyncio.Queue[tuple[Job, str]],
    counts: PhoneCounts,
    deadline: float,
    rng: random.Random,
    retry_share: float,
) -> None:
    while time.perf_counter() < deadline:
        try:
            job, item_code = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        body = record_body(job, item_code, datetime.now(UTC))
        headers = {**_bearer(await ctx.token(job.nurse)), "Idempotency-Key": job.key}
        url = f"{ctx.gateway}{HC}/orders/{job.order_id}/visit-record"
        tries = 2 if rng.random() < retry_share else 1
        for _ in range(tries):
            started = time.perf_counter()
            response = await client.post(url, json=body, headers=headers)
            counts.latencies.append(time.perf_counter() - started)
            counts.sent += 1
            if response.status_code in (200, 201) and response.headers.get(REPLAY_HEADER) == "true":
                counts.replayed += 1
            elif response.status_code == 201:
                counts.created += 1
                counts.answered.append(job)
            else:
                code = _problem_code(response)
                counts.errors[code] = counts.errors.get(code, 0) + 1


async def _records_per_key(
    ctx: BenchContext, record_ids: Sequence[str], order_ids: Sequence[str]
) -> dict[str, int]:
    """How many visit records the homecare database holds for each of the phones' orders, by record id."""
    engine = service_engine(ctx, "homecare")
    try:
        async with engine.connect() as conn:
            found: dict[str, int] = {}
            ids = [uuid.UUID(o) for o in order_ids]
            for start in range(0, len(ids), 500):
                rows = await conn.execute(
                    select(VisitRecord.record_id).where(VisitRecord.order_id.in_(ids[start : start + 500]))
                )
                for (record_id,) in rows:
                    found[str(record_id)] = found.get(str(record_id), 0) + 1
            return found
    finally:
        await engine.dispose()


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] * 1000:.1f}"


async def visit_records(
    ctx: BenchContext,
    *,
    phones: int = 200,
    orders: int | None = None,
    retry_share: float = 0.3,
    seed: int = 16,
) -> Section:
    rng = random.Random(seed)
    wanted = orders if orders is not None else max(phones, min(2000, int(ctx.duration * 60)))
    limits = httpx.Limits(max_connections=max(phones, 10), max_keepalive_connections=max(phones, 10))
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        crews: list[Crew] = []
        notes: list[str] = []
        for names in CREWS:
            try:
                crews.append(await _crew(client, ctx, names))
            except (SetupFailed, httpx.HTTPError, KeyError) as error:
                notes.append(f"crew {names[2]} left out: {error}")
        if not crews:
            raise SetupFailed("no crew could be prepared: " + "; ".join(notes))
        prepared_at = time.perf_counter()
        jobs: list[tuple[Job, str]] = []
        semaphore = asyncio.Semaphore(8)

        refused: list[str] = []

        async def prepare(crew: Crew) -> None:
            async with semaphore:
                try:
                    order_id = await _prepare_order(client, ctx, crew)
                except SetupFailed as error:  # e.g. a window taken by another run: the order is left out
                    refused.append(str(error))
                    return
            jobs.append((Job(order_id, crew.nurse), crew.item_code))

        # each crew's first order alone (it finds the service group), then the rest concurrently
        per_crew = [wanted // len(crews) + (1 if i < wanted % len(crews) else 0) for i in range(len(crews))]
        for crew in crews:
            await prepare(crew)
        await asyncio.gather(
            *(prepare(c) for c, n in zip(crews, per_crew, strict=True) for _ in range(n - 1))
        )
        setup_seconds = time.perf_counter() - prepared_at
        if not jobs:
            raise SetupFailed("no order could be prepared: " + "; ".join(refused[:3]))
        if refused:
            notes.append(f"{len(refused)} orders could not be prepared, e.g. {refused[0]}")
        rng.shuffle(jobs)
        queue: asyncio.Queue[tuple[Job, str]] = asyncio.Queue()
        for job in jobs:
            queue.put_nowait(job)
        counts = PhoneCounts()
        started = time.perf_counter()
        deadline = started + ctx.duration
        await asyncio.gather(
            *(
                _phone(client, ctx, queue, counts, deadline, random.Random(seed * 1000 + i), retry_share)
                for i in range(phones)
            )
        )
        elapsed = time.perf_counter() - started
    stored = await _records_per_key(ctx, [j.record_id for j, _ in jobs], [j.order_id for j, _ in jobs])
    answered = {j.record_id for j in counts.answered}
    exactly_once = all(stored.get(r) == 1 for r in answered) and all(n == 1 for n in stored.values())
    unanswered_stored = sorted(set(stored) - answered)
    if queue.empty():
        notes.append(f"all {len(jobs)} prepared orders were used before the {ctx.duration:g} s were up")
    errors = ", ".join(f"{k} {v}" for k, v in sorted(counts.errors.items())) or "0"
    return Section(
        title="Writes: nurse visit records with Idempotency-Keys",
        columns=[
            "phones",
            "records/s",
            "requests/s",
            "p50 ms",
            "p99 ms",
            "created",
            "replays",
            "errors",
            "records stored per key",
        ],
        rows=[
            [
                str(phones),
                f"{counts.created / elapsed:.1f}",
                f"{counts.sent / elapsed:.1f}",
                _ms(counts.latencies, 0.5),
                _ms(counts.latencies, 0.99),
                str(counts.created),
                str(counts.replayed),
                errors,
                "exactly one" if exactly_once and not unanswered_stored else "NOT exactly one",
            ]
        ],
        notes=[
            f"Scale {ctx.scale}, {ctx.database}; {phones} phones through the gateway for {elapsed:.1f} s; "
            f"{len(crews)} nurse token(s) shared by the phones; {retry_share:.0%} of the records sent twice "
            f"with the same key (the second answered with the first answer and Idempotent-Replayed: true). "
            f"{len(jobs)} orders prepared "
            f"through the API beforehand in {setup_seconds:.1f} s (not counted).",
            f"Afterwards the homecare database holds {len(stored)} records for those orders: "
            f"{sum(1 for r in answered if stored.get(r) == 1)} of the {len(answered)} answered keys "
            "exactly once"
            + (f"; {len(unanswered_stored)} stored without an answer" if unanswered_stored else "")
            + ".",
            *notes,
        ],
    )


# ------------------------------------------------------------------------------------- bulk sync
def institution_record(external_id: str, n: int) -> dict[str, Any]:
    """A new clinic in 湖里: a medical institution without beds, so that the rows the measure leaves
    behind count in no coverage, integrated-institution or bed figure a later measure reads."""
    return {
        "external_id": external_id,
        "name": f"压测诊所{n:07d}",
        "kind": "medical",
        "category": "clinic",
        "region_code": "350206",
        "address": f"福建省厦门市湖里区测试路 {n} 号",
    }


async def _platform_token(client: httpx.AsyncClient, ctx: BenchContext) -> str:
    response = await client.post(
        f"{ctx.gateway}/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    return str(_expect(response, 200)["access_token"])


async def _written_rows(ctx: BenchContext, source: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The institution rows the bulk path wrote for ``source`` (columns, rows), as stored."""
    engine = service_engine(ctx, "registry")
    try:
        async with engine.connect() as conn:
            result = await conn.exec_driver_sql(
                "SELECT * FROM institution WHERE source_system = " + ("$1" if ctx.database_url else "?"),
                (source,),
            )
            return list(result.keys()), [tuple(r) for r in result.all()]
    finally:
        await engine.dispose()


async def _raw_upsert_postgresql(ctx: BenchContext, columns: list[str], rows: list[tuple[Any, ...]]) -> float:
    """Seconds asyncpg takes to upsert ``rows`` in batches of 1,000 (COPY + INSERT … ON CONFLICT)."""
    asyncpg = importlib.import_module("asyncpg")  # PostgreSQL only (no type stubs)

    schema = os.environ.get("REGISTRY_DATABASE_SCHEMA", "registry")
    url = ctx.database_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    scratch = f"bench_scratch_{uuid.uuid4().hex[:8]}"
    names = ", ".join(f'"{c}"' for c in columns)
    updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in columns if c != "id")
    try:
        await conn.execute(f'CREATE TABLE public.{scratch} (LIKE "{schema}".institution INCLUDING ALL)')
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            async with conn.transaction():
                await conn.execute(
                    f"CREATE TEMP TABLE incoming (LIKE public.{scratch} INCLUDING DEFAULTS) ON COMMIT DROP"
                )
                await conn.copy_records_to_table(
                    "incoming", records=rows[start : start + BATCH], columns=columns
                )
                await conn.execute(
                    f"INSERT INTO public.{scratch} ({names}) SELECT {names} FROM incoming "
                    f"ON CONFLICT (id) DO UPDATE SET {updates}"
                )
        return time.perf_counter() - started
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS public.{scratch}")
        await conn.close()


def _raw_upsert_sqlite(ctx: BenchContext, columns: list[str], rows: list[tuple[Any, ...]]) -> float:
    """Seconds sqlite3 takes to upsert ``rows`` in batches of 1,000 (executemany INSERT … ON CONFLICT) into a
    table made from the registry's own ``institution`` DDL in a scratch file beside it."""
    source = sqlite3.connect(ctx.data_dir / "registry.db")
    try:
        (ddl,) = source.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'institution'"
        ).fetchone()
    finally:
        source.close()
    path = ctx.data_dir / f"bench_scratch_{uuid.uuid4().hex[:8]}.db"
    conn = sqlite3.connect(path)
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != "id")
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(ddl)
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            with conn:
                conn.executemany(
                    f"INSERT INTO institution ({names}) VALUES ({marks}) "
                    f"ON CONFLICT (id) DO UPDATE SET {updates}",
                    rows[start : start + BATCH],
                )
        return time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


async def bulk_sync(ctx: BenchContext, *, max_batches: int = 5) -> Section:
    source = f"bench-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=120) as client:
        token = await _platform_token(client, ctx)
        headers = _bearer(token)
        url = f"{ctx.gateway}/api/v1/registry/institutions/bulk"
        batches = 0
        created = 0
        rejected: dict[str, int] = {}
        latencies: list[float] = []
        started = time.perf_counter()
        deadline = started + ctx.duration
        while batches < max_batches and (batches == 0 or time.perf_counter() < deadline):
            records = [
                institution_record(f"{source}-{batches * BATCH + i}", batches * BATCH + i)
                for i in range(BATCH)
            ]
            t0 = time.perf_counter()
            answer = _expect(
                await client.post(url, json={"source_system": source, "records": records}, headers=headers),
                200,
            )
            latencies.append(time.perf_counter() - t0)
            batches += 1
            created += int(answer["counts"]["created"])
            for result in answer["results"]:
                if result["outcome"] == "rejected":
                    rejected[result["code"]] = rejected.get(result["code"], 0) + 1
        api_seconds = sum(latencies)
    columns, rows = await _written_rows(ctx, source)
    if ctx.database_url:
        raw_seconds = await _raw_upsert_postgresql(ctx, columns, rows)
        raw = "asyncpg COPY + INSERT … ON CONFLICT"
    else:
        raw_seconds = await asyncio.to_thread(_raw_upsert_sqlite, ctx, columns, rows)
        raw = "sqlite3 executemany INSERT … ON CONFLICT"
    api_rate = created / api_seconds if api_seconds else 0.0
    raw_rate = len(rows) / raw_seconds if raw_seconds else 0.0
    share = api_rate / raw_rate if raw_rate else 0.0
    return Section(
        title="Writes: city-platform bulk sync against a raw upsert of the same rows",
        columns=["path", "batches of 1,000", "rows", "rows/s", "p50 batch ms", "share of raw"],
        rows=[
            [
                "POST /api/v1/registry/institutions/bulk (gateway)",
                str(batches),
                str(created),
                f"{api_rate:.0f}",
                _ms(latencies, 0.5),
                f"{share:.0%}",
            ],
            [raw, str(-(-len(rows) // BATCH)), str(len(rows)), f"{raw_rate:.0f}", "–", "100%"],
        ],
        notes=[
            f"Scale {ctx.scale}, {ctx.database}; the 厦门 city platform's token; new clinics in 湖里, "
            f"source system {source} (each batch created whole; the rows stay); "
            f"target ≥ {TARGET_BULK_SHARE:.0%} of the raw upsert. The raw path "
            "writes the very "
            "rows the service stored, read back, into a scratch table of the same shape (dropped after); it "
            "checks nothing, audits nothing and feeds no change feed — the service does all three.",
            *(
                [f"rejected: {', '.join(f'{k} {v}' for k, v in sorted(rejected.items()))}"]
                if rejected
                else []
            ),
        ],
    )


async def run(ctx: BenchContext, *, phones: int = 200, orders: int | None = None) -> list[Section]:
    return [await visit_records(ctx, phones=phones, orders=orders), await bulk_sync(ctx)]
