"""The registry, as homecare sees it: the few fields of institutions and practitioners it reads.

Calls go through the gateway with a service token. The wire models are our own and tolerant: unknown
fields are ignored and flags we read but the registry does not (yet) send default to "no".
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict

from libs.common.errors import UpstreamError, UpstreamTimeout
from libs.common.http_client import ServiceClient

INSTITUTIONS_PATH = "/api/v1/registry/institutions"
PRACTITIONERS_PATH = "/api/v1/registry/practitioners"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InstitutionInfo(_Wire):
    id: uuid.UUID
    name: str
    kind: str
    region_code: str
    active: bool = True
    internet_nursing_provider: bool = False
    home_bed_service: bool = False


class Training(_Wire):
    name: str = ""
    certificate_no: str | None = None
    issued_date: date | None = None
    item_codes: list[str] = []


class PractitionerInfo(_Wire):
    id: uuid.UUID
    institution_id: uuid.UUID | None = None
    kind: str
    title: str | None = None
    homecare_eligible: bool = False
    trainings: list[Training] = []
    active: bool = True

    def trained_item_codes(self) -> set[str]:
        return {code for training in self.trainings for code in training.item_codes}


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
        """Every practitioner of these institutions, for a whole batch at once: one listing per institution
        followed through its pages (what a batch names is checked against it; a practitioner of another
        institution is simply not there). Call it before the request's write transaction opens."""
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


class _PractitionerPage(_Wire):
    items: list[PractitionerInfo]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class FetchedPractitioner:
    """A practitioner asked of the registry before the request's write transaction opened (on SQLite its
    ``BEGIN IMMEDIATE`` would otherwise hold the write lock across the HTTP call), or why it could not
    be: the failure is raised only if the step really needs the practitioner, after its own checks."""

    info: PractitionerInfo | None
    failure: UpstreamError | UpstreamTimeout | None = None

    def get(self) -> PractitionerInfo | None:
        if self.failure is not None:
            raise self.failure
        return self.info


async def fetch_practitioner(
    registry: RegistryClient, practitioner_id: uuid.UUID | None
) -> FetchedPractitioner:
    """Ask the registry first: call this before the request's session runs its first statement (orders
    assess / assign, the home-bed doctor steps)."""
    if practitioner_id is None:
        return FetchedPractitioner(None)
    try:
        return FetchedPractitioner(await registry.get_practitioner(practitioner_id))
    except (UpstreamError, UpstreamTimeout) as exc:
        return FetchedPractitioner(None, exc)
