"""The registry, as homecare sees it: the few fields of institutions and practitioners it reads.

Calls go through the gateway with a service token. The wire models are our own and tolerant: unknown
fields are ignored and flags we read but the registry does not (yet) send default to "no".
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from libs.common.errors import UpstreamError
from libs.common.http_client import ServiceClient

INSTITUTIONS_PATH = "/api/v1/registry/institutions"
PRACTITIONERS_PATH = "/api/v1/registry/practitioners"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


M = TypeVar("M", bound=_Wire)


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

    async def _get(self, path: str) -> dict[str, object] | None:
        response = await self.request("GET", path)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise UpstreamError(
                f"{self.upstream_name}返回 {response.status_code}", code="registry_unexpected_status"
            )
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError(f"{self.upstream_name}返回的内容无法识别", code="registry_bad_payload")
        return body

    async def get_institution(self, institution_id: uuid.UUID) -> InstitutionInfo | None:
        body = await self._get(f"{INSTITUTIONS_PATH}/{institution_id}")
        return None if body is None else _parse(InstitutionInfo, body)

    async def get_practitioner(self, practitioner_id: uuid.UUID) -> PractitionerInfo | None:
        body = await self._get(f"{PRACTITIONERS_PATH}/{practitioner_id}")
        return None if body is None else _parse(PractitionerInfo, body)


def _parse(model: type[M], body: dict[str, object]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise UpstreamError("机构注册服务返回的内容无法识别", code="registry_bad_payload") from exc
