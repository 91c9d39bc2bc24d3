"""The scratch database of the in-process benches (``tests/*/bench_*.py``, run by hand, never collected):
PostgreSQL (a throwaway database, the service's schema) or a SQLite file in a temporary directory, with the
settings every such bench gives its service app."""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from libs.common.testing import DEFAULT_POSTGRES_URL, scratch_database

ISSUER, AUDIENCE = "bench", "bench"
#: what every bench's service settings hold besides the database: test environment, plain logs, the
#: benches' own token issuer, no gc freeze (a bench builds its app after start-up)
COMMON: dict[str, Any] = {
    "environment": "test",
    "log_json": False,
    "jwt_issuer": ISSUER,
    "jwt_audience": AUDIENCE,
    "gc_freeze_after_start": False,
}


@asynccontextmanager
async def bench_database(service: str, *, postgres: bool) -> AsyncIterator[dict[str, Any]]:
    """The settings (keyword arguments) of ``service`` on a scratch database, dropped afterwards; which
    database it is goes to stderr (stdout stays the bench's figures)."""
    if postgres:
        server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        name = f"bench_{uuid.uuid4().hex[:8]}"
        async with scratch_database(server, name) as url:
            print(f"PostgreSQL ({name})", file=sys.stderr)
            yield {"database_url": url, "database_schema": service, **COMMON}
    else:
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite", file=sys.stderr)
            yield {"database_url": f"sqlite+aiosqlite:///{Path(tmp) / f'{service}.db'}", **COMMON}
