"""On SQLite the coverage reads the agreements in force once per statement, never once per institution.

SQLite has no statistics here (nothing runs ANALYZE), so its planner chooses blind: the uncovered list's
``NOT EXISTS`` probe took the agreements' (state, end_date) index and read every agreement in force once
per institution, and the per-county counts scanned the materialised distinct signed ids per institution
(1.2 s of a 1.25 s coverage at the bench's scale S, issue 16). Each statement's EXPLAIN QUERY PLAN must now
show no correlated subquery and no subquery scanned as the inner side of a join: the signed ids are an
uncorrelated IN list, evaluated once into a transient index. PostgreSQL keeps its own forms (an anti-join
probe of the elderly-party index and a hash join, measured at scale M)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from libs.common.auth import Role
from libs.common.testing import Tokens, backend
from tests.contracts.coverage.test_router import COVERAGE, _seed
from tests.contracts.registry_data import RegistryData

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="SQLite's planner without statistics")


async def test_coverage_reads_the_agreements_once_per_statement(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    await _seed(client, registry, tokens)
    engine = contracts_app.state.database.engine.sync_engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = await client.get(
            COVERAGE, params={"group_by": "county"}, headers=tokens.headers(Role.city_admin, "350900")
        )
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    assert response.json()["uncovered_total"] == 3  # the uncovered list ran (see test_router)

    reading = [(s, p) for s, p in seen if "FROM agreement" in s]
    assert len(reading) == 3  # per county, the uncovered list, signed pairs with the expiring counts
    async with contracts_app.state.database.session(write=False) as session:
        connection = await session.connection()
        for statement, parameters in reading:  # the driver's statement and parameters, as it ran them
            found = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))
            plan = [str(row[3]) for row in found]
            assert not [step for step in plan if "CORRELATED" in step], (statement, plan)
            inner_scans = [step for step in plan if step.startswith("SCAN") and "JOIN" in step]
            assert not inner_scans, (statement, plan)
