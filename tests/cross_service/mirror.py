"""A reference client for city platforms: mirror a city's records by following the change feeds.

``CityMirror`` follows ``GET /api/v1/{service}/changes?after=CURSOR&limit=N`` of each service through
the gateway with a ``city_platform`` token, and keeps what it reads in SQLite (a file, so that it resumes
after a restart, or ``:memory:``)::

    async with httpx.AsyncClient(base_url="https://gateway.example") as http:
        token = ClientCredentials(http, client_id="xm_city_platform", client_secret=secret)
        mirror = CityMirror(http, token, database="xm_mirror.db")
        await mirror.sync()                      # everything up to now, then again whenever wanted
        assert (await mirror.compare()).exact    # the mirror equals the server's lists

The rules it follows (tests/cross_service/README.md says why):

- Entries are applied in feed order (``seq``). ``upsert`` replaces the whole entity with ``data``;
  ``delete`` removes it — the entity was deleted, or it left the caller's scope (moved to another city).
- A page and the cursor after it are stored in ONE transaction: a crash repeats at most a page, never
  skips one, and repeating a page is harmless (upserts and deletes are idempotent).
- The cursor is opaque: store ``next_cursor`` as given, send it back as ``after``.
- ``has_more`` false means "caught up for now"; poll again later from the same cursor.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

FEEDS = ("registry", "contracts", "homecare")


@dataclass(frozen=True)
class Listed:
    """An entity type the mirror can compare with the server, and the list endpoint that shows it."""

    service: str
    entity_type: str
    path: str


#: What a city platform may list (its permissions): the comparison covers these entity types.
LISTED = (
    Listed("registry", "institution", "/api/v1/registry/institutions"),
    Listed("contracts", "agreement", "/api/v1/contracts/agreements"),
    Listed("homecare", "recipient", "/api/v1/homecare/recipients"),
    Listed("homecare", "order", "/api/v1/homecare/orders"),
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_cursor (service TEXT PRIMARY KEY, cursor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mirrored (
    service TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    version INTEGER,
    region_code TEXT,
    seq INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (service, entity_type, entity_id)
);
"""


class TokenSource(Protocol):
    async def token(self) -> str: ...


@dataclass
class StaticToken:
    """A token obtained elsewhere (tests mint one)."""

    value: str

    async def token(self) -> str:
        return self.value


@dataclass
class ClientCredentials:
    """A city platform's client-credentials login at the gateway, renewed shortly before it expires."""

    http: httpx.AsyncClient
    client_id: str
    client_secret: str
    margin_seconds: float = 60.0
    _token: str | None = field(default=None, init=False)
    _expires_at: float = field(default=0.0, init=False)

    async def token(self) -> str:
        if self._token is None or time.monotonic() >= self._expires_at - self.margin_seconds:
            response = await self.http.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
            )
            response.raise_for_status()
            body = response.json()
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + float(body["expires_in"])
        return self._token


@dataclass
class SyncReport:
    """What one :meth:`CityMirror.sync` applied, per service."""

    upserts: dict[str, int] = field(default_factory=dict)
    deletes: dict[str, int] = field(default_factory=dict)
    pages: int = 0

    @property
    def applied(self) -> int:
        return sum(self.upserts.values()) + sum(self.deletes.values())


@dataclass(frozen=True)
class Difference:
    service: str
    entity_type: str
    entity_id: str
    mirror_version: int | None  # None: not in the mirror
    server_version: int | None  # None: not on the server (for this caller)


@dataclass
class Comparison:
    """The mirror against the server's list endpoints, entity type by entity type."""

    compared: dict[str, int] = field(default_factory=dict)  # "service/entity_type" → entities on the server
    differences: list[Difference] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not self.differences


class FeedError(RuntimeError):
    """The feed answered something other than a page (the status and problem document are kept)."""

    def __init__(self, service: str, response: httpx.Response) -> None:
        super().__init__(f"{service} change feed: HTTP {response.status_code} {response.text[:300]}")
        self.status_code = response.status_code


class CityMirror:
    """A city's records, mirrored from the change feeds of ``services`` (see the module docstring)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        token: TokenSource,
        *,
        services: Iterable[str] = FEEDS,
        database: str = ":memory:",
        page_size: int = 500,
    ) -> None:
        self.http = http
        self.token_source = token
        self.services = tuple(services)
        self.page_size = page_size
        self.db = sqlite3.connect(database)
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------------------------- following
    def cursor(self, service: str) -> str | None:
        row = self.db.execute("SELECT cursor FROM feed_cursor WHERE service = ?", (service,)).fetchone()
        return str(row[0]) if row else None

    async def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token_source.token()}"}

    async def sync(self) -> SyncReport:
        """Read every service's feed from its stored cursor until caught up; apply and store each page."""
        report = SyncReport()
        for service in self.services:
            while True:
                params: dict[str, str | int] = {"limit": self.page_size}
                after = self.cursor(service)
                if after is not None:
                    params["after"] = after
                response = await self.http.get(
                    f"/api/v1/{service}/changes", params=params, headers=await self._headers()
                )
                if response.status_code != 200:
                    raise FeedError(service, response)
                page = response.json()
                self._apply_page(service, page["items"], page["next_cursor"], report)
                report.pages += 1
                if not page["has_more"]:
                    break
        return report

    def _apply_page(
        self, service: str, items: list[dict[str, Any]], next_cursor: str, report: SyncReport
    ) -> None:
        with self.db:  # one transaction: the page and the cursor after it
            for item in items:
                key = (service, item["entity_type"], item["entity_id"])
                if item["op"] == "delete":
                    self.db.execute(
                        "DELETE FROM mirrored WHERE service = ? AND entity_type = ? AND entity_id = ?", key
                    )
                    report.deletes[service] = report.deletes.get(service, 0) + 1
                else:
                    self.db.execute(
                        "INSERT INTO mirrored"
                        " (service, entity_type, entity_id, version, region_code, seq, data)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (service, entity_type, entity_id) DO UPDATE SET"
                        " version = excluded.version, region_code = excluded.region_code,"
                        " seq = excluded.seq, data = excluded.data",
                        (*key, item["version"], item["region_code"], item["seq"], json.dumps(item["data"])),
                    )
                    report.upserts[service] = report.upserts.get(service, 0) + 1
            self.db.execute(
                "INSERT INTO feed_cursor (service, cursor) VALUES (?, ?)"
                " ON CONFLICT (service) DO UPDATE SET cursor = excluded.cursor",
                (service, next_cursor),
            )

    # --------------------------------------------------------------------------------------- reading
    def get(self, service: str, entity_type: str, entity_id: uuid.UUID | str) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT data FROM mirrored WHERE service = ? AND entity_type = ? AND entity_id = ?",
            (service, entity_type, str(entity_id)),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def versions(self, service: str, entity_type: str) -> dict[str, int | None]:
        rows = self.db.execute(
            "SELECT entity_id, version FROM mirrored WHERE service = ? AND entity_type = ?",
            (service, entity_type),
        )
        return {str(entity_id): version for entity_id, version in rows}

    def regions(self) -> set[str | None]:
        return {row[0] for row in self.db.execute("SELECT DISTINCT region_code FROM mirrored")}

    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM mirrored").fetchone()[0])

    # ------------------------------------------------------------------------------------- comparing
    async def _server_versions(self, path: str, params: Mapping[str, str]) -> dict[str, int]:
        versions: dict[str, int] = {}
        cursor: str | None = None
        while True:
            query: dict[str, str | int] = {**params, "limit": 200}
            if cursor:
                query["cursor"] = cursor
            response = await self.http.get(path, params=query, headers=await self._headers())
            response.raise_for_status()
            page = response.json()
            versions.update({str(item["id"]): int(item["version"]) for item in page["items"]})
            cursor = page.get("next_cursor")
            if not cursor:
                return versions

    async def compare(
        self, listed: Iterable[Listed] = LISTED, params: Mapping[str, str] | None = None
    ) -> Comparison:
        """Every entity the server lists for this caller must be mirrored at the same version, and the
        mirror must hold nothing else of these types. Sync first: the server moves on meanwhile."""
        comparison = Comparison()
        for spec in listed:
            if spec.service not in self.services:
                continue
            server = await self._server_versions(spec.path, params or {})
            mirrored = self.versions(spec.service, spec.entity_type)
            comparison.compared[f"{spec.service}/{spec.entity_type}"] = len(server)
            for entity_id in sorted(server.keys() | mirrored.keys()):
                if server.get(entity_id) != mirrored.get(entity_id):
                    comparison.differences.append(
                        Difference(
                            spec.service,
                            spec.entity_type,
                            entity_id,
                            mirror_version=mirrored.get(entity_id),
                            server_version=server.get(entity_id),
                        )
                    )
        return comparison
