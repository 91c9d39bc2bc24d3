"""Demo data plumbing: stable ids, so that every service's seed agrees without calling the others."""

from __future__ import annotations

import uuid

from libs.common.settings import ServiceSettings

DEMO_NAMESPACE = uuid.UUID("5b0e7c1e-3d0a-4a8e-9b35-350000000000")
DEMO_PASSWORD = "Demo@2026"


def demo_id(kind: str, name: str) -> uuid.UUID:
    """The id a demo record has in every service, e.g. ``demo_id("institution", "兰馨颐养院")``."""
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{name}")


def refuse_in_production(settings: ServiceSettings) -> None:
    if settings.is_production:
        raise SystemExit("拒绝在生产环境写入演示数据 (refusing to seed demo data in production)")
