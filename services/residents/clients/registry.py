"""The registry, as the residents service sees it: the few fields of institutions and practitioners it
reads (a 家庭医生团队's institution must be a primary-care one; its members its practitioners).

Calls go through the gateway with a service token. The wire models are our own and tolerant: unknown
fields are ignored. Call the registry before the request's write transaction opens (on SQLite the
write lock would otherwise be held across the HTTP call).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from libs.common.http_client import ServiceClient

INSTITUTIONS_PATH = "/api/v1/registry/institutions"
PRACTITIONERS_PATH = "/api/v1/registry/practitioners"

#: the registry's categories of primary-care institutions (基层医疗卫生机构): 社区卫生服务中心（站）,
#: 乡镇卫生院, 村卫生室 — where 家庭医生签约 teams work
PRIMARY_CARE_CATEGORIES = frozenset(
    {
        "community_health_center",
        "community_health_station",
        "township_health_center",
        "village_clinic",
    }
)


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InstitutionInfo(_Wire):
    id: uuid.UUID
    name: str
    kind: str
    category: str
    region_code: str
    active: bool = True

    @property
    def is_primary_care(self) -> bool:
        return self.category in PRIMARY_CARE_CATEGORIES


class PractitionerInfo(_Wire):
    id: uuid.UUID
    institution_id: uuid.UUID | None = None
    region_code: str | None = None
    name: str = ""
    kind: str
    title: str | None = None
    active: bool = True


class _PractitionerPage(_Wire):
    items: list[PractitionerInfo]
    next_cursor: str | None = None


class RegistryClient(ServiceClient):
    upstream_name = "机构注册服务"
    refused_code = "registry_unexpected_status"
    bad_payload_code = "registry_bad_payload"

    async def get_institution(self, institution_id: uuid.UUID) -> InstitutionInfo | None:
        return await self.get_or_none(f"{INSTITUTIONS_PATH}/{institution_id}", InstitutionInfo)

    async def get_practitioner(self, practitioner_id: uuid.UUID) -> PractitionerInfo | None:
        return await self.get_or_none(f"{PRACTITIONERS_PATH}/{practitioner_id}", PractitionerInfo)

    async def practitioners_of(
        self, institution_ids: Iterable[uuid.UUID], *, page_size: int = 200
    ) -> dict[uuid.UUID, PractitionerInfo]:
        """Every practitioner of these institutions (each listing followed through its pages)."""
        found: dict[uuid.UUID, PractitionerInfo] = {}
        for institution_id in sorted(set(institution_ids)):
            cursor: str | None = None
            while True:
                params: list[tuple[str, str | int]] = [
                    ("institution_id", str(institution_id)),
                    ("limit", page_size),
                ]
                if cursor:
                    params.append(("cursor", cursor))
                page = self.read(
                    await self.request("GET", PRACTITIONERS_PATH, params=params), _PractitionerPage
                )
                for item in page.items:
                    if item.institution_id == institution_id:
                        found[item.id] = item
                if not page.next_cursor or not page.items:
                    break
                cursor = page.next_cursor
        return found
