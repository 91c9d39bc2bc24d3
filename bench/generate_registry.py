"""Institutions for the generator: each a copy of a demo institution, in the template's county.

What differs from the template: the id; the name (the template's with 「（N号院区）」 appended, N the
generation); a new 统一社会信用代码 (the template's registration department and type, the template's county
as the division code, a fresh 组织机构代码 with its GB 11714 check character, and the GB 32100 check
character — unique, checked against every code in the table); ``external_id`` (source system kept). Kind,
category, grades, flags, beds, coordinates and the encrypted phone are the template's, so every
combination of kind and fields is one the registry accepted. Each gets its name-search grams (the feed's
commit hook for institutions, ``name_search.refresh``) and its change-feed entry.

Not written for generated institutions (the growth measures read institutions, not these): year figures,
filings, practitioners, demonstration applications, audit records — so what derives from them is reset:
``has_medical_unit`` is the kind's default (an elderly-care home has none without an accepted filing) and
``national_demonstration_year`` is empty. ``licence_no`` is the template's (no uniqueness rule on it).
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from bench.generate_rows import Ids, Row, change_entry, copy, fetch, table, write_changes
from libs.common.identifiers import uscc_check_char
from services.registry import models as _registry_models  # noqa: F401  (feed declarations)
from services.registry.institutions.models import Institution, InstitutionKind
from services.registry.institutions.name_search import grams
from services.registry.institutions.service import default_has_medical_unit
from services.registry.stats import summary

#: rows written per transaction (the tests set fewer, to write several)
BATCH = 20_000
SCHEMA = "registry"
_ORG_CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code(body: str) -> str:
    """A 组织机构代码 (GB 11714): eight characters and their check character."""
    total = sum(_ORG_CODE_CHARS.index(ch) * w for ch, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def new_uscc(template: str | None, region_code: str, counter: int) -> str | None:
    if template is None:
        return None
    first17 = template[:2] + region_code + org_code(f"B{counter:07d}")
    return first17 + uscc_check_char(first17)


async def fill(conn: asyncpg.Connection, *, target: int, seed: int, batch: int | None = None) -> int:
    """Add institutions until there are ``target``; return how many were added."""
    batch = batch or BATCH
    institutions = await table(conn, SCHEMA, "institution")
    name_grams = await table(conn, SCHEMA, "institution_name_gram")
    present = int(await conn.fetchval(f'SELECT count(*) FROM "{SCHEMA}".institution'))
    if present >= target:
        return 0
    templates = await fetch(conn, institutions, "WHERE external_id NOT LIKE 'bench-%' OR external_id IS NULL")
    if not templates:
        raise LookupError("no demo institution to copy: seed the demo first (deploy/local/run.py)")
    taken = {r["uscc"] for r in await conn.fetch(f'SELECT uscc FROM "{SCHEMA}".institution') if r["uscc"]}
    ids = Ids(seed, f"institution:{present}")
    now = datetime.now(UTC)
    counter = present
    added = 0
    while present + added < target:
        rows: list[Row] = []
        for _ in range(min(batch, target - present - added)):
            index = present + added + len(rows)
            template = templates[index % len(templates)]
            generation = index // len(templates) + 1
            uscc = new_uscc(template["uscc"], template["region_code"], counter)
            while uscc in taken:
                counter += 1
                uscc = new_uscc(template["uscc"], template["region_code"], counter)
            counter += 1
            if uscc:
                taken.add(uscc)
            rows.append(
                {
                    **template,
                    "id": ids.uuid(),
                    "name": f"{template['name']}（{generation}号院区）",
                    "uscc": uscc,
                    "source_system": template["source_system"] or "bench",
                    "external_id": f"bench-{index}",
                    # derived from records a copy does not have: an accepted 内设医疗机构 filing, a
                    # national demonstration awarded through an application
                    "has_medical_unit": default_has_medical_unit(InstitutionKind(template["kind"])),
                    "national_demonstration_year": None,
                    "version": 1,
                }
            )
        async with conn.transaction():
            await copy(conn, institutions, rows)
            await copy(
                conn,
                name_grams,
                [{"gram": g, "institution_id": row["id"]} for row in rows for g in grams(row["name"])],
            )
            await write_changes(conn, SCHEMA, [change_entry(Institution, row, now) for row in rows])
        added += len(rows)
    async with conn.transaction():
        # the statistics' summary cells, which the feed's commit hook keeps for the ORM's writes
        await conn.execute(f'SET LOCAL search_path TO "{SCHEMA}"')
        for statement in summary.rebuild_sql():
            await conn.execute(statement)
    return added
