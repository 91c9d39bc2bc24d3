"""The one function a city platform needs to push records to any bulk endpoint (libs/common/bulk.py).

Every ``POST .../bulk`` takes ``{"source_system", "records": [{"external_id", …}]}`` and answers
``{"source_system", "counts", "results": [{index, external_id, outcome, id, version, code, detail,
errors, warnings}]}``, so the same function serves institutions, agreements, recipients and orders.
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.bulk import BulkResponse


class BulkRefused(Exception):
    """The whole batch was refused (a problem+json answer: 401, 403, 413, 422 ``batch_too_large`` …)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail')}")
        self.status = status
        self.problem = problem


async def push(
    client: httpx.AsyncClient,
    path: str,
    records: list[dict[str, Any]],
    *,
    source_system: str,
    headers: dict[str, str] | None = None,
) -> BulkResponse:
    """Send one batch; each record's outcome is in ``results`` (in request order)."""
    response = await client.post(
        path, json={"source_system": source_system, "records": records}, headers=headers
    )
    if response.status_code != 200:
        raise BulkRefused(response.status_code, response.json())
    return BulkResponse.model_validate(response.json())
