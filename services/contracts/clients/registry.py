"""The registry, as the contracts service sees it (through the gateway, with a service token).

Tolerant reader: only the few fields used here are declared; unknown fields are ignored and fields the
registry may not send yet get safe defaults. A 404 is "no such institution" (``None``); timeouts and
5xx answers become 504/502 problems in :class:`ServiceClient`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Annotated, Any, Literal

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

from libs.common.divisions import RegionScope
from libs.common.http_client import ServiceClient, ServiceTokenSource, StaticTokenSource

INSTITUTIONS_PATH = "/api/v1/registry/institutions"
CHANGES_PATH = "/api/v1/registry/changes"
MEDICAL_KIND = "medical"
ELDERLY_CARE_KINDS = frozenset({"elderly_care", "integrated"})


class RegistryInstitution(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID
    name: str
    kind: str
    region_code: str
    active: bool = True
    has_medical_unit: bool = False
    category: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class _InstitutionPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[RegistryInstitution]
    next_cursor: str | None = None


class FeedEntry(BaseModel):
    """One entry of the registry's change feed (only what the coverage's snapshot reads)."""

    model_config = ConfigDict(extra="ignore")

    seq: int
    entity_type: str
    entity_id: uuid.UUID
    op: Literal["upsert", "delete"]
    changed_at: datetime
    data: dict[str, Any] | None = None


class FeedPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    items: list[FeedEntry]
    next_cursor: str
    has_more: bool


class InstitutionFeedData(BaseModel):
    """An institution's feed payload, as far as the coverage needs it (tolerant: unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    kind: str
    region_code: str
    active: bool = True
    has_medical_unit: bool = False


class RegistryClient(ServiceClient):
    upstream_name = "机构注册服务"
    refused_code = "registry_refused"
    bad_payload_code = "registry_bad_response"

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: ServiceTokenSource | StaticTokenSource,
        *,
        max_concurrency: int = 8,
    ) -> None:
        super().__init__(http, tokens)
        #: parallel look-ups by id (1 in tests, whose registry serves every request on one connection)
        self.max_concurrency = max_concurrency

    async def get_institution(self, institution_id: uuid.UUID) -> RegistryInstitution | None:
        return await self.get_or_none(f"{INSTITUTIONS_PATH}/{institution_id}", RegistryInstitution)

    async def get_institutions(
        self, institution_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, RegistryInstitution]:
        """Several institutions by id (concurrently, a few at a time); unknown ids are left out."""
        limiter = asyncio.Semaphore(self.max_concurrency)

        async def one(institution_id: uuid.UUID) -> RegistryInstitution | None:
            async with limiter:
                return await self.get_institution(institution_id)

        found = await asyncio.gather(*(one(i) for i in set(institution_ids)))
        return {item.id: item for item in found if item is not None}

    async def list_institutions(
        self,
        *,
        kinds: Collection[str],
        region_code: str,
        active_only: bool = True,
        page_size: int = 200,
    ) -> list[RegistryInstitution]:
        """Every institution of the given kinds in a region (a province, city or county code).

        One listing (the kinds repeated in the query) followed through its pages. The results are
        filtered here too (kind, region, active), so a registry that ignores a filter still yields the
        right set.
        """
        scope = RegionScope.for_region(region_code)
        found: dict[uuid.UUID, RegistryInstitution] = {}
        cursor: str | None = None
        while True:
            params: list[tuple[str, str | int]] = [("kind", kind) for kind in sorted(kinds)]
            params += [("region_code", region_code), ("limit", page_size)]
            if active_only:
                params.append(("active", "true"))
            if cursor:
                params.append(("cursor", cursor))
            page = self.read(await self.request("GET", INSTITUTIONS_PATH, params=params), _InstitutionPage)
            for item in page.items:
                if (
                    item.kind in kinds
                    and scope.contains(item.region_code)
                    and (item.active or not active_only)
                ):
                    found[item.id] = item
            if not page.next_cursor or not page.items:
                break
            cursor = page.next_cursor
        return list(found.values())

    async def feed_page(self, *, after: str | None, limit: int, entity_types: Collection[str]) -> FeedPage:
        """One page of the registry's change feed after ``after`` (None: from its start)."""
        params: dict[str, str | int] = {"limit": limit, "entity_types": ",".join(sorted(entity_types))}
        if after is not None:
            params["after"] = after
        return self.read(await self.request("GET", CHANGES_PATH, params=params), FeedPage)


async def get_registry(request: Request) -> RegistryClient:
    client: RegistryClient = request.app.state.registry
    return client


RegistryDep = Annotated[RegistryClient, Depends(get_registry)]
