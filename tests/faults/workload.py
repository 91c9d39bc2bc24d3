"""Writers with idempotency keys, readers, and the check of acknowledged writes against the API."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.registry.factories import INSTITUTIONS, institution_body, unique_uscc


@dataclass
class Ledger:
    """What a run sent and what the platform acknowledged."""

    prefix: str = field(default_factory=lambda: f"故障{uuid.uuid4().hex[:6]}")
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key → institution id
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    slowest_failure_seconds: float = 0.0
    requests: int = 0

    def new_key(self) -> str:
        key = f"fault-{len(self.bodies)}-{uuid.uuid4().hex}"
        self.bodies[key] = institution_body(name=f"{self.prefix}护理院{len(self.bodies)}", uscc=unique_uscc())
        return key

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)

    async def write(
        self, client: httpx.AsyncClient, headers: dict[str, str], key: str
    ) -> httpx.Response | None:
        """POST the institution of ``key`` with its Idempotency-Key; record the outcome."""
        started = time.monotonic()
        self.requests += 1
        try:
            response = await client.post(
                INSTITUTIONS, json=self.bodies[key], headers={**headers, "Idempotency-Key": key}
            )
        except httpx.HTTPError:
            self.transport_errors += 1
            return None
        self.statuses[response.status_code] += 1
        if response.status_code == 201:
            self.acknowledged[key] = response.json()["id"]
        elif response.status_code >= 500:
            self.slowest_failure_seconds = max(self.slowest_failure_seconds, time.monotonic() - started)
        return response

    async def read(self, client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response | None:
        self.requests += 1
        try:
            response = await client.get(INSTITUTIONS, params={"limit": 50}, headers=headers)
        except httpx.HTTPError:
            self.transport_errors += 1
            return None
        self.statuses[response.status_code] += 1
        return response

    def unacknowledged(self) -> list[str]:
        return [key for key in self.bodies if key not in self.acknowledged]


async def names_found(client: httpx.AsyncClient, headers: dict[str, str], prefix: str) -> list[str]:
    """Every institution name starting with ``prefix`` the API lists (all pages)."""
    names: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await client.get(INSTITUTIONS, params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        names += [item["name"] for item in body["items"] if item["name"].startswith(prefix)]
        cursor = body["next_cursor"]
        if not cursor:
            return names
