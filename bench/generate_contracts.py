"""Agreements for the generator: each a copy of a demo agreement, between a pair that has none yet.

The template (a demo agreement that renews none) gives the state, dates, services, terms, fees and
lifecycle moments — a combination the contracts service wrote itself. The parties are new: an active
elderly-care party of the template's ``elderly_kind`` and an active medical party of the template's medical
party's kind, in the same city when there is one (partners should be near each other), both read from the
registry's table, and never a pair that already has an agreement — so "at most one agreement pending and
one in force per pair" holds whatever the template's state. The party snapshot (names, counties, the
agreement's county = the elderly-care party's) and the title are the new parties'; the lifecycle's
institution references follow them. Each gets its change-feed entry (both counties' readers, as the
service writes it).

Not written for generated agreements: the signed PDF (the document fields are left empty), 巡诊 visits,
referrals, audit records — the growth measures read agreements and their statistics.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime

import asyncpg

from bench.generate_rows import Ids, Row, change_entry, copy, fetch, table, write_changes
from services.contracts import models as _contracts_models  # noqa: F401  (feed declarations)
from services.contracts.agreements.models import Agreement

#: rows written per transaction (the tests set fewer, to write several)
BATCH = 5_000
SCHEMA = "contracts"
REGISTRY = "registry"


class _Parties:
    """Active institutions of one kind, walked round-robin, by city and overall."""

    def __init__(self, rows: list[asyncpg.Record]) -> None:
        self.all = rows
        self.by_city: dict[str, list[asyncpg.Record]] = defaultdict(list)
        for row in rows:
            self.by_city[row["region_code"][:4]].append(row)
        self.turn: dict[str, int] = defaultdict(int)

    def next(self, city: str | None = None) -> asyncpg.Record:
        rows = self.by_city.get(city, []) if city else self.all
        rows = rows or self.all
        key = city or ""
        row = rows[self.turn[key] % len(rows)]
        self.turn[key] += 1
        return row


async def fill(conn: asyncpg.Connection, *, target: int, seed: int, batch: int | None = None) -> int:
    """Add agreements until there are ``target``; return how many were added."""
    batch = batch or BATCH
    agreements = await table(conn, SCHEMA, "agreement")
    present = int(await conn.fetchval(f'SELECT count(*) FROM "{SCHEMA}".agreement'))
    if present >= target:
        return 0
    templates = await fetch(
        conn,
        agreements,
        "WHERE renews_id IS NULL AND (external_id IS NULL OR external_id NOT LIKE 'bench-%')",
    )
    if not templates:
        raise LookupError("no demo agreement to copy: seed the demo first (deploy/local/run.py)")
    institutions = await conn.fetch(
        f'SELECT id, name, region_code, kind FROM "{REGISTRY}".institution WHERE active ORDER BY id'
    )
    kind_of = {row["id"]: row["kind"] for row in institutions}
    by_kind: dict[str, _Parties] = {}
    for kind in {row["kind"] for row in institutions}:
        by_kind[kind] = _Parties([row for row in institutions if row["kind"] == kind])
    pairs: set[tuple[uuid.UUID, uuid.UUID]] = {
        (r["medical_institution_id"], r["elderly_institution_id"])
        for r in await conn.fetch(
            f'SELECT medical_institution_id, elderly_institution_id FROM "{SCHEMA}".agreement'
        )
    }
    ids = Ids(seed, f"agreement:{present}")
    now = datetime.now(UTC)
    added = 0
    while present + added < target:
        rows: list[Row] = []
        for _ in range(min(batch, target - present - added)):
            index = present + added + len(rows)
            template = templates[index % len(templates)]
            elderly_pool = by_kind[template["elderly_kind"]]
            medical_pool = by_kind[kind_of.get(template["medical_institution_id"], "medical")]
            for _attempt in range(len(elderly_pool.all) * 4):
                elderly = elderly_pool.next()
                medical = medical_pool.next(elderly["region_code"][:4])
                if medical["id"] != elderly["id"] and (medical["id"], elderly["id"]) not in pairs:
                    break
            else:
                raise RuntimeError("no institution pair without an agreement is left for the scale asked")
            pairs.add((medical["id"], elderly["id"]))
            party = {
                template["medical_institution_id"]: medical["id"],
                template["elderly_institution_id"]: elderly["id"],
            }
            rows.append(
                {
                    **template,
                    "id": ids.uuid(),
                    "medical_institution_id": medical["id"],
                    "medical_name": medical["name"],
                    "medical_region_code": medical["region_code"],
                    "elderly_institution_id": elderly["id"],
                    "elderly_name": elderly["name"],
                    "elderly_region_code": elderly["region_code"],
                    "region_code": elderly["region_code"],
                    "title": f"{medical['name']}与{elderly['name']}医养签约合作协议",
                    "submitted_by_institution_id": party.get(template["submitted_by_institution_id"]),
                    "terminated_by_institution_id": party.get(template["terminated_by_institution_id"]),
                    "document_filename": None,
                    "document_size_bytes": None,
                    "document_sha256": None,
                    "document_uploaded_at": None,
                    "source_system": template["source_system"] or "bench",
                    "external_id": f"bench-{index}",
                    "version": 1,
                }
            )
        async with conn.transaction():
            await copy(conn, agreements, rows)
            await write_changes(conn, SCHEMA, [change_entry(Agreement, row, now) for row in rows])
        added += len(rows)
    return added
