"""The data generator (issue 16) at a tiny scale on PostgreSQL: it runs, it is deterministic, and the rows
it writes keep the rules the services keep.

The demo database of the smoke tests' stack (``bench_stack``: deploy/local/run.py migrated and seeded it)
is dumped and restored, then copied (``CREATE DATABASE … TEMPLATE``); the generator fills both copies
with the same seed. The rules are queried from the tables and
derived from shared/domain and the models, not from the generator: check characters of every 统一社会信用代码,
counties from the division list, kinds and categories the models allow, one agreement pending and one in
force per pair with the parties' snapshot equal to the registry's, nurses of finished orders eligible
(rules.md), one visit record per order, and every new entity's change-feed entry equal to what the
service's own feed declaration makes of the entity loaded through the ORM.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy import make_url, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench import generate_contracts, generate_homecare, generate_registry
from bench.context import BenchContext
from bench.generate import asyncpg_dsn, generate
from bench.generate_registry import org_code
from libs.common.changes import feed_entity_of, json_value
from libs.common.divisions import is_county
from libs.common.identifiers import validate_uscc
from libs.common.models import ChangeTracked
from libs.common.testing import DEFAULT_POSTGRES_URL, backend, create_database, drop_database
from services.contracts import models as _contracts_models  # noqa: F401
from services.contracts.agreements.models import Agreement
from services.homecare import models as _homecare_models  # noqa: F401
from services.homecare.orders.models import Order, OrderItem, Rating
from services.homecare.orders.visits.models import VisitRecord
from services.registry import models as _registry_models  # noqa: F401
from services.registry.institutions.kinds import Category, InstitutionKind
from services.registry.institutions.models import Institution
from services.registry.institutions.name_search import grams

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="the generator fills PostgreSQL only")

SERVER = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
SEEDED = ("registry", "contracts", "homecare")
#: rules.md: nurse eligibility — 护师 or above, at least 5 years of clinical nursing, no misconduct
ELIGIBLE_TITLES = ["senior_nurse", "supervising_nurse", "associate_chief_nurse", "chief_nurse"]
GENERATED = "external_id LIKE 'bench-%'"
#: the name of a database deploy/local/run.py has already seeded, to copy instead of seeding one (optional)
SEEDED_DEMO = os.environ.get("BENCH_GENERATE_DEMO_DATABASE", "")


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(SERVER))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _restore(source_url: str, target_url: str, dump: Path) -> None:
    """``pg_dump -Fc`` of ``source_url`` restored into the empty database ``target_url``."""
    for command in (
        ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), asyncpg_dsn(source_url)],
        ["pg_restore", "--no-owner", "-d", asyncpg_dsn(target_url), str(dump)],
    ):
        done = subprocess.run(command, capture_output=True, check=False)
        assert done.returncode == 0, done.stderr.decode()[-3000:]


@pytest.fixture(scope="module")
def stack_database(request: pytest.FixtureRequest) -> str:
    """The URL of the smoke tests' stack's database (not started when a seeded database is named)."""
    if SEEDED_DEMO:
        return ""
    stack: BenchContext = request.getfixturevalue("bench_stack")
    return stack.database_url


@pytest_asyncio.fixture(scope="module")
async def filled(
    stack_database: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[str, str, dict[str, int]]]:
    """Two copies of one seeded demo, each filled at scale tiny with seed 1: (url A, url B, counts of A).

    The demo is the smoke tests' stack's (``bench_stack``: deploy/local/run.py migrated and seeded it),
    dumped and restored, so the CI run seeds it once for every bench test.
    """
    name = f"bench_generate_{uuid.uuid4().hex[:8]}"
    demo = await create_database(SERVER, name)
    copies = [f"{name}_a", f"{name}_b"]
    try:
        if SEEDED_DEMO:  # a database already seeded (a developer's shortcut): copied, never written
            await drop_database(SERVER, name)
            await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{SEEDED_DEMO}"')
        else:
            dump = tmp_path_factory.mktemp("generate") / "demo.dump"
            await asyncio.to_thread(_restore, stack_database, demo, dump)
        for copy in copies:
            await _admin(f'CREATE DATABASE "{copy}" TEMPLATE "{name}"')
        urls = [make_url(demo).set(database=copy).render_as_string(hide_password=False) for copy in copies]
        with pytest.MonkeyPatch.context() as patch:  # several transactions each, as at M and L
            patch.setattr(generate_registry, "BATCH", 64)
            patch.setattr(generate_contracts, "BATCH", 16)
            patch.setattr(generate_homecare, "BATCH", 300)
            counts = await generate("tiny", urls[0], seed=1)
            await generate("tiny", urls[1], seed=1)
        yield urls[0], urls[1], counts
    finally:
        for copy in copies:
            await drop_database(SERVER, copy)
        await drop_database(SERVER, name)


async def _fetch(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_the_tiny_scale_adds_its_rows(filled: tuple[str, str, dict[str, int]]) -> None:
    url, _, counts = filled
    assert counts["registry.institution"] == 200
    assert counts["contracts.agreement"] == 50
    assert counts["homecare.service_order"] == 1000
    assert counts["homecare.order_item"] >= 1000
    assert 0 < counts["homecare.visit_record"] <= 1000
    rows = await _fetch(
        url,
        f"SELECT (SELECT count(*) FROM registry.institution WHERE {GENERATED}),"
        f" (SELECT count(*) FROM contracts.agreement WHERE {GENERATED}),"
        f" (SELECT count(*) FROM homecare.service_order WHERE {GENERATED})",
    )
    assert tuple(rows[0]) == (200, 50, 1000)


async def test_same_seed_same_rows(filled: tuple[str, str, dict[str, int]]) -> None:
    url_a, url_b, _ = filled
    tables = [
        ("registry.institution", "id"),
        ("registry.institution_name_gram", "gram, institution_id"),
        ("contracts.agreement", "id"),
        ("homecare.service_order", "id"),
        ("homecare.order_item", "id"),
        ("homecare.order_event", "id"),
        ("homecare.rating", "id"),
        ("homecare.visit_record", "id"),
    ]
    for relation, order in tables:
        sql = f"SELECT md5(string_agg(t::text, '|' ORDER BY {order})) FROM {relation} t"
        assert (await _fetch(url_a, sql))[0][0] == (await _fetch(url_b, sql))[0][0], relation
    for schema in SEEDED:  # the feed too, but for the moment each entry was written
        sql = (
            "SELECT md5(string_agg(concat_ws(',', seq, entity_type, entity_id, op, entity_version,"
            " region_code, other_region_code, institution_id, other_institution_id, payload::text),"
            " '|' ORDER BY seq))"
            f" FROM {schema}.change_record"
        )
        assert (await _fetch(url_a, sql))[0][0] == (await _fetch(url_b, sql))[0][0], schema


async def test_institutions_keep_the_registry_rules(filled: tuple[str, str, dict[str, int]]) -> None:
    url, _, _ = filled
    rows = await _fetch(
        url,
        "SELECT id, name, uscc, region_code, kind, category, has_medical_unit, national_demonstration_year"
        f" FROM registry.institution WHERE {GENERATED}",
    )
    for row in rows:
        assert row["uscc"] is not None
        assert validate_uscc(row["uscc"]) == row["uscc"]
        assert org_code(row["uscc"][8:16]) == row["uscc"][8:17]  # the 组织机构代码's own check character
        assert row["uscc"][2:8] == row["region_code"]
        assert is_county(row["region_code"])
        assert row["kind"] in {k.value for k in InstitutionKind}
        assert row["category"] in {c.value for c in Category}
        # without an accepted 内设医疗机构 filing an elderly-care home has no medical unit (registry models)
        assert row["has_medical_unit"] is (row["kind"] != "elderly_care")
        assert row["national_demonstration_year"] is None  # awarded through an application only
    duplicates = await _fetch(url, "SELECT uscc FROM registry.institution GROUP BY uscc HAVING count(*) > 1")
    assert duplicates == []
    held = await _fetch(
        url,
        "SELECT g.institution_id, array_agg(g.gram) FROM registry.institution_name_gram g "
        f"JOIN registry.institution i ON i.id = g.institution_id WHERE i.{GENERATED} GROUP BY 1",
    )
    names = {row["id"]: row["name"] for row in rows}
    assert {i: set(g) for i, g in held} == {i: grams(n) for i, n in names.items()}


async def test_the_statistics_cells_count_the_generated_institutions(
    filled: tuple[str, str, dict[str, int]],
) -> None:
    """The registry statistics' summary (kept by the feed's commit hook, which a COPY bypasses) is rebuilt."""
    url, _, _ = filled
    columns = "region_code, kind, category"
    cells = await _fetch(
        url, f"SELECT {columns}, institutions, beds_elderly_care FROM registry.institution_stats_cell"
    )
    counted = await _fetch(
        url,
        f"SELECT {columns}, count(*), sum(beds_elderly_care) FROM registry.institution WHERE active"
        f" GROUP BY {columns}",
    )
    assert {tuple(r) for r in cells} == {tuple(r) for r in counted}
    assert sum(r[3] for r in cells) > 200


async def test_agreements_keep_the_contracts_rules(filled: tuple[str, str, dict[str, int]]) -> None:
    url, _, _ = filled
    for states in ("('draft', 'submitted', 'countersigned')", "('active')"):
        twice = await _fetch(
            url,
            "SELECT medical_institution_id, elderly_institution_id FROM contracts.agreement "
            f"WHERE state IN {states} GROUP BY 1, 2 HAVING count(*) > 1",
        )
        assert twice == []
    wrong = await _fetch(
        url,
        "SELECT a.id FROM contracts.agreement a "
        "LEFT JOIN registry.institution m ON m.id = a.medical_institution_id "
        "LEFT JOIN registry.institution e ON e.id = a.elderly_institution_id "
        f"WHERE a.{GENERATED} AND (m.id IS NULL OR e.id IS NULL OR m.id = e.id"
        " OR m.kind NOT IN ('medical', 'integrated') OR e.kind NOT IN ('elderly_care', 'integrated')"
        " OR a.elderly_kind <> e.kind OR a.medical_name <> m.name OR a.elderly_name <> e.name"
        " OR a.medical_region_code <> m.region_code OR a.elderly_region_code <> e.region_code"
        " OR a.region_code <> e.region_code OR a.renews_id IS NOT NULL OR a.document_filename IS NOT NULL)",
    )
    assert wrong == []


async def test_orders_keep_the_homecare_rules(filled: tuple[str, str, dict[str, int]]) -> None:
    url, _, _ = filled
    ineligible = await _fetch(
        url,
        "SELECT o.id FROM homecare.service_order o "
        "LEFT JOIN registry.practitioner p ON p.id = o.nurse_practitioner_id "
        f"WHERE o.{GENERATED} AND o.status IN ('completed', 'rated') AND (p.id IS NULL"
        " OR p.institution_id <> o.institution_id OR p.kind <> 'nurse' OR p.clinical_years < 5"
        " OR p.misconduct_recorded OR NOT (p.title = ANY($1::varchar[])))",
        ELIGIBLE_TITLES,
    )
    assert ineligible == []
    unrecorded = await _fetch(
        url,
        "SELECT o.id FROM homecare.service_order o LEFT JOIN homecare.visit_record v ON v.order_id = o.id "
        f"WHERE o.{GENERATED} AND (o.status IN ('completed', 'rated')) <> (v.id IS NOT NULL)",
    )
    assert unrecorded == []
    out_of_order = await _fetch(
        url,
        "SELECT o.id FROM homecare.service_order o JOIN homecare.visit_record v ON v.order_id = o.id "
        f"WHERE o.{GENERATED} AND (v.institution_id <> o.institution_id OR v.region_code <> o.region_code"
        " OR v.practitioner_id <> o.nurse_practitioner_id OR o.window_start > now()"
        " OR o.home_bed_id IS NOT NULL)",
    )
    assert out_of_order == []


async def _feed_matches(url: str, schema: str, model: type[ChangeTracked], where: Any) -> int:
    """Each entity of ``model`` selected by ``where`` has one feed entry, equal to the ORM's own."""
    engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        async with AsyncSession(engine) as session:
            entities = list((await session.scalars(select(model).where(where))).all())
        entries = {
            row["entity_id"]: row
            for row in await _fetch(
                url,
                f"SELECT entity_id, op, entity_version, region_code, other_region_code, institution_id,"
                f" other_institution_id, payload::text AS payload FROM {schema}.change_record"
                " WHERE entity_type = $1 AND entity_id = ANY($2::uuid[])",
                model.__change_entity__,
                [e.id for e in entities],  # type: ignore[attr-defined]
            )
        }
        for entity in entities:
            entry = entries[entity.id]  # type: ignore[attr-defined]
            scope = (*entity.change_scope(), entity.change_other_region())
            assert (
                entry["region_code"],
                entry["institution_id"],
                entry["other_institution_id"],
                entry["other_region_code"],
            ) == scope
            assert entry["op"] == "upsert"
            assert entry["entity_version"] == entity.version  # type: ignore[attr-defined]
            expected = json_value(feed_entity_of(model).project(entity))
            assert json.loads(entry["payload"]) == json.loads(json.dumps(expected)), model.__name__
        return len(entities)
    finally:
        await engine.dispose()


async def test_every_new_entity_is_in_its_feed(filled: tuple[str, str, dict[str, int]]) -> None:
    url, _, counts = filled
    bench = "bench-%"
    assert await _feed_matches(url, "registry", Institution, Institution.external_id.like(bench)) == 200
    assert await _feed_matches(url, "contracts", Agreement, Agreement.external_id.like(bench)) == 50
    assert await _feed_matches(url, "homecare", Order, Order.external_id.like(bench)) == 1000
    orders = select(Order.id).where(Order.external_id.like(bench))
    for model, key in ((OrderItem, "order_item"), (Rating, "rating"), (VisitRecord, "visit_record")):
        found = await _feed_matches(url, "homecare", model, model.order_id.in_(orders))
        assert found == counts[f"homecare.{key}"]
