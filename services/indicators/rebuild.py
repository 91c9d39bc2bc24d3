"""Rebuild the read model from nothing: drop every fact and every cursor, then re-read the feeds.

    .venv/bin/python -m services.indicators.rebuild            # uses INDICATORS_* settings, like the app

Run it with the indicators service stopped (or its followers off, ``INDICATORS_FOLLOW_INTERVAL_SECONDS=0``):
a follower running meanwhile would only re-apply pages (harmless), but the status would mislead. The
sources must be reachable through the gateway (``INDICATORS_GATEWAY_URL``) with the indicators' service
client (``INDICATORS_SERVICE_CLIENT_SECRET``). Exit status 0 when every feed was read to its end.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx
from sqlalchemy import delete

from libs.common.database import Database, session_scope
from libs.common.http_client import make_http_client
from libs.common.migrations import upgrade_head_async
from services.indicators import models  # noqa: F401  (every table on Base.metadata)
from services.indicators.app import TokenFactory, build_followers
from services.indicators.facts.apply import FACT_MODELS
from services.indicators.followers.follower import FollowError
from services.indicators.followers.models import FeedCursor
from services.indicators.settings import IndicatorsSettings


async def clear(database: Database) -> None:
    """Drop the read model and the cursors in one transaction. The cursors first: a follower locks its
    cursor, then the reports' version counter (its facts' triggers, reports/version.py); so does this."""
    async with session_scope(database) as session:
        await session.execute(delete(FeedCursor))
        for model in FACT_MODELS:
            await session.execute(delete(model))


async def rebuild(
    settings: IndicatorsSettings,
    *,
    database: Database | None = None,
    gateway_http: httpx.AsyncClient | None = None,
    tokens: TokenFactory | None = None,
) -> dict[str, int]:
    """Clear, then follow every feed to its end; return the entries read per feed."""
    own_database = database is None
    db = database or Database(settings)
    http = gateway_http or make_http_client(settings.gateway_url, settings.upstream_timeout_seconds)
    try:
        await clear(db)
        return await build_followers(settings, db, http, tokens).catch_up()
    finally:
        if gateway_http is None:
            await http.aclose()
        if own_database:
            await db.dispose()


async def _main() -> int:
    argparse.ArgumentParser(
        description="重建指标数据底座（清空后从各来源变更订阅的起点重新读取）"
    ).parse_args()
    settings = IndicatorsSettings()
    if settings.migrate_on_start:
        await upgrade_head_async(settings)
    try:
        counts = await rebuild(settings)
    except FollowError as exc:
        print(f"重建失败：{exc.code} {exc.detail}", file=sys.stderr)
        return 1
    for feed, count in counts.items():
        print(f"{feed}: {count} 条变更已应用")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
