"""The gateway's client of the registry (institution lookups when an institution admin is created).

It calls the registry directly (the gateway is the router; it does not call itself) with a short-lived
service token that the gateway signs itself, over the gateway's one pooled upstream client.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import httpx
from pydantic import BaseModel, ConfigDict

from libs.common.auth import TokenIssuer, principal_claims, service_principal
from libs.common.http_client import ServiceClient, StaticTokenSource

SERVICE_TOKEN_TTL = timedelta(minutes=2)


class InstitutionSnapshot(BaseModel):
    """The few fields of a registry institution the gateway reads (tolerant reader)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    name: str
    region_code: str
    active: bool = True


class PractitionerSnapshot(BaseModel):
    """The few fields of a registry practitioner the gateway reads (tolerant reader)."""

    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    institution_id: uuid.UUID
    active: bool = True


class SelfIssuedTokenSource(StaticTokenSource):
    """Service tokens the gateway signs for itself (no HTTP), re-minted shortly before they expire."""

    def __init__(self, issuer: TokenIssuer) -> None:
        super().__init__("")
        self._issuer = issuer
        self._valid_until = 0.0

    async def token(self) -> str:
        if time.monotonic() >= self._valid_until:
            claims = {**principal_claims(service_principal("gateway")), "client_id": "gateway"}
            self._token, _ = self._issuer.issue(claims, SERVICE_TOKEN_TTL, audience="registry")
            self._valid_until = time.monotonic() + SERVICE_TOKEN_TTL.total_seconds() - 30
        return self._token


class RegistryClient(ServiceClient):
    upstream_name = "机构注册服务"
    refused_code = "upstream_refused"
    bad_payload_code = "upstream_error"

    def __init__(self, http: httpx.AsyncClient, *, base_url: str, issuer: TokenIssuer) -> None:
        super().__init__(http, SelfIssuedTokenSource(issuer))
        self._base_url = base_url.rstrip("/")

    async def get_institution(self, institution_id: uuid.UUID) -> InstitutionSnapshot | None:
        return await self.get_or_none(
            f"{self._base_url}/api/v1/registry/institutions/{institution_id}", InstitutionSnapshot
        )

    async def get_practitioner(self, practitioner_id: uuid.UUID) -> PractitionerSnapshot | None:
        return await self.get_or_none(
            f"{self._base_url}/api/v1/registry/practitioners/{practitioner_id}", PractitionerSnapshot
        )
