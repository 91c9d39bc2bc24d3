"""The measures of issue 16: each module here has ``async def run(ctx: BenchContext) -> list[Section]``.

``python -m bench`` runs every module it finds here, in the issue's order (gateway hop, framework ceiling,
growth with data, writes, dashboards, workers), then any other module by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import cast

from bench.context import BenchContext, Section

# The province's institution list, 50 rows: the page measures 1, 2 and 6 load (≈ 85 KB at S).
INSTITUTION_LIST = "/api/v1/registry/institutions?limit=50"
LIST_USER = "prov_admin"

ORDER = ("gateway_hop", "ceiling", "growth", "writes", "dashboards", "workers")

Measure = Callable[[BenchContext], Awaitable[list[Section]]]


async def bearer(ctx: BenchContext, username: str = LIST_USER) -> dict[str, str]:
    return {"Authorization": f"Bearer {await ctx.token(username)}"}


def names() -> list[str]:
    found = [info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return sorted(found, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))


def module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")


def measure(name: str) -> Measure:
    return cast(Measure, module(name).run)
