"""Test data in the REAL registry (through its API), kept in one place so that it follows the registry's
schema as it grows (services/registry/institutions/schemas.py).

"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens

INSTITUTIONS = "/api/v1/registry/institutions"
_counter = itertools.count(1)
_KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    "medical": {"category": "hospital", "hospital_grade": "grade_2", "hospital_type": "general"},
    "elderly_care": {"category": "elderly_care_home"},
    "integrated": {"category": "integrated_institution", "integrated_model": "medical_runs_elderly_care"},
}


class RegistryData:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI, tokens: Tokens) -> None:
        self.client = client
        self.app = app
        self.tokens = tokens

    def _payload(self, *, name: str, kind: str, region_code: str, **extra: Any) -> dict[str, Any]:
        # The registry's InstitutionCreate (services/registry/institutions/schemas.py): name, kind,
        # category, region_code; an integrated institution also needs its model. Add required fields here.
        payload: dict[str, Any] = {"name": name, "kind": kind, "region_code": region_code}
        payload.update(_KIND_DEFAULTS[kind])
        payload.update(extra)
        return payload

    async def institution(
        self,
        kind: str,
        region_code: str = "350206",
        *,
        name: str | None = None,
        active: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        name = name or f"测试{kind}{next(_counter)}号"
        response = await self.client.post(
            INSTITUTIONS,
            json=self._payload(name=name, kind=kind, region_code=region_code, **extra),
            headers=self.tokens.headers(Role.county_admin, region_code),
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        if not active:
            body = await self.deactivate(body)
        return body

    async def medical(self, region_code: str = "350206", **kw: Any) -> dict[str, Any]:
        return await self.institution("medical", region_code, **kw)

    async def elderly(self, region_code: str = "350206", **kw: Any) -> dict[str, Any]:
        return await self.institution("elderly_care", region_code, **kw)

    async def integrated(self, region_code: str = "350206", **kw: Any) -> dict[str, Any]:
        return await self.institution("integrated", region_code, **kw)

    async def deactivate(self, institution: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(
            f"{INSTITUTIONS}/{institution['id']}/deactivate",
            json={"reason": "测试停用"},
            headers={
                **self.tokens.headers(Role.county_admin, institution["region_code"]),
                "If-Match": f'"{institution["version"]}"',
            },
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body
