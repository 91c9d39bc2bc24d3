"""Demo data of every service, for development and the demo: never imported by production code.

One module a service (``demo.registry``, ``demo.demonstration`` — the registry's 示范创建 batches —,
``demo.gateway``, ``demo.contracts``, ``demo.homecare``, ``demo.indicators``), each run as
``python -m demo.<name>`` (what ``deploy/local/run.py`` does) or called from tests. The import contract
in ``pyproject.toml`` forbids ``services`` and ``libs`` to import this package; what production must
know of the demo (its passwords and account names, to refuse them) lives in production code and is
imported from there.

Stable ids, so that every service's seed agrees without calling the others.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from libs.common.bulk import BulkRecordResult
from libs.common.database import Database, session_scope
from libs.common.production import DEMO_PASSWORD
from libs.common.settings import ServiceSettings

__all__ = [
    "DEMO_NAMESPACE",
    "DEMO_PASSWORD",
    "SeedRejected",
    "analyze_schema",
    "demo_id",
    "refuse_in_production",
]

DEMO_NAMESPACE = uuid.UUID("5b0e7c1e-3d0a-4a8e-9b35-350000000000")


def demo_id(kind: str, name: str) -> uuid.UUID:
    """The id a demo record has in every service, e.g. ``demo_id("institution", "兰馨颐养院")``."""
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{name}")


def refuse_in_production(settings: ServiceSettings) -> None:
    if settings.is_production:
        raise SystemExit("拒绝在生产环境写入演示数据 (refusing to seed demo data in production)")


class SeedRejected(RuntimeError):
    """Demo records a service's rules refuse: the demo must obey the rules, so the seed stops, naming each
    record (up to 20), its outcome, code and field errors. ``rules`` names the service's rules
    (``登记`` …), ``what`` the records (``演示协议`` …)."""

    def __init__(
        self, rejected: list[tuple[str, BulkRecordResult]], *, rules: str, what: str = "演示数据"
    ) -> None:
        self.rejected = rejected
        self.codes = [result.code or "" for _name, result in rejected]
        lines = [
            f"{name}: {result.outcome} {result.code or ''} {result.detail or ''} "
            + "; ".join(f"{e.field} {e.code} {e.message}" for e in result.errors)
            for name, result in rejected[:20]
        ]
        super().__init__(
            f"{what}未通过{rules}规则（{len(rejected)} 条）(demo records refused by the service's rules):\n"
            + "\n".join(lines)
        )


async def analyze_schema(database: Database) -> list[str]:
    """PostgreSQL: ANALYZE every table of the service's schema (``search_path``) once a seed has filled
    it, as autovacuum would later — with autovacuum off, or before it gets there, the first reports are
    planned on guesses (the indicators report: 6.6 s instead of 0.2 s at scale S). The tables analysed;
    SQLite: none."""
    if database.engine.dialect.name != "postgresql":
        return []
    async with session_scope(database) as session:
        rows = await session.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        )
        tables = [str(row[0]) for row in rows.all()]
        for table in tables:
            await session.execute(text(f'ANALYZE "{table}"'))
    return tables
