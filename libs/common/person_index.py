"""The residents' person index as another service calls it (issue 19): find or register a person by ID
number with the calling service's token (audience ``residents``, permission ``persons:write``). Homecare's
recipients and contracts' referral residents link to it (their ``person_link`` modules)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from libs.common.http_client import ServiceClient

PERSONS_PATH = "/api/v1/residents/persons"


class _PersonRef(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID


class PersonNotMatched(Exception):
    """The person index refused the record: ``code`` says why."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class PersonIndex(ServiceClient):
    """The residents' person index, as another service uses it: find or register a person by ID number."""

    upstream_name = "居民主索引"

    async def find_or_create(
        self, *, name: str, id_number: str, region_code: str, phone: str | None, address: str | None
    ) -> uuid.UUID:
        body: dict[str, str] = {"name": name, "id_number": id_number, "region_code": region_code}
        if phone:
            body["phone"] = phone
        if address and len(address) >= 4:
            body["address"] = address
        response = await self.request("POST", PERSONS_PATH, json=body)
        if response.status_code == 422 and ("phone" in body or "address" in body):
            # the index is stricter on contact data than the calling service was: the identity is what links
            body = {k: v for k, v in body.items() if k not in ("phone", "address")}
            response = await self.request("POST", PERSONS_PATH, json=body)
        if response.status_code in (200, 201):
            return _PersonRef.model_validate(response.json()).id
        code = "person_name_mismatch" if response.status_code == 409 else "person_refused"
        try:
            detail = str(response.json().get("detail", ""))
        except ValueError:
            detail = response.text[:200]
        raise PersonNotMatched(code, f"居民主索引拒绝（HTTP {response.status_code}）：{detail}")
