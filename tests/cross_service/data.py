"""Writing test data through the services' real APIs (the request shapes in one place).

Institutions are made by the county admin of their county, agreements by the parties' admins, homecare
recipients and orders by the provider's admin — as the SPA and the mobile apps do.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.identifiers import id_number_check_char
from libs.common.testing import Tokens
from tests.cross_service.conftest import Live

REGISTRY = "/api/v1/registry"
CONTRACTS = "/api/v1/contracts"
HOMECARE = "/api/v1/homecare"
_serial = itertools.count(1)
_KINDS: dict[str, dict[str, Any]] = {
    "medical": {"category": "hospital", "hospital_grade": "grade_2", "hospital_type": "general"},
    "elderly_care": {"category": "elderly_care_home"},
    "integrated": {"category": "integrated_institution", "integrated_model": "medical_runs_elderly_care"},
}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}{next(_serial)}"


def id_number(region: str) -> str:
    """A valid 居民身份证号 (GB 11643 check character)."""
    body = f"{region}1942{next(_serial) % 12 + 1:02d}15{next(_serial) % 1000:03d}"
    return body + id_number_check_char(body)


def institution_body(region_code: str, kind: str = "elderly_care", **extra: Any) -> dict[str, Any]:
    return {
        "name": unique(f"同步测试{'医院' if kind == 'medical' else '养老院'}"),
        "kind": kind,
        "region_code": region_code,
        **_KINDS[kind],
        **extra,
    }


@dataclass
class Writer:
    """One party writing through the services' APIs (as a county admin, an institution admin, …)."""

    live: Live

    @property
    def tokens(self) -> Tokens:
        return self.live.tokens

    def county(self, region_code: str) -> dict[str, str]:
        return self.tokens.headers(Role.county_admin, region_code)

    def province(self) -> dict[str, str]:
        return self.tokens.headers(Role.province_admin, "350000")

    def admin(self, institution: dict[str, Any]) -> dict[str, str]:
        return self.tokens.headers(
            Role.institution_admin,
            institution["region_code"],
            institution_id=uuid.UUID(institution["id"]),
            sub=f"admin:{institution['id']}",
        )

    # ------------------------------------------------------------------------------------ registry
    async def institution(self, region_code: str, kind: str = "elderly_care", **extra: Any) -> dict[str, Any]:
        response = await self.live.registry.post(
            f"{REGISTRY}/institutions",
            json=institution_body(region_code, kind, **extra),
            headers=self.county(region_code),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def update_institution(
        self, institution: dict[str, Any], headers: dict[str, str] | None = None, **changes: Any
    ) -> dict[str, Any]:
        response = await self.live.registry.patch(
            f"{REGISTRY}/institutions/{institution['id']}",
            json=changes,
            headers={
                **(headers or self.county(institution["region_code"])),
                "If-Match": f'"{institution["version"]}"',
            },
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def deactivate_institution(self, institution: dict[str, Any]) -> dict[str, Any]:
        response = await self.live.registry.post(
            f"{REGISTRY}/institutions/{institution['id']}/deactivate",
            json={"reason": "同步测试停用"},
            headers={**self.county(institution["region_code"]), "If-Match": f'"{institution["version"]}"'},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    # ----------------------------------------------------------------------------------- contracts
    def agreement_body(
        self, medical: dict[str, Any], elderly: dict[str, Any], **extra: Any
    ) -> dict[str, Any]:
        return {
            "medical_institution_id": medical["id"],
            "elderly_institution_id": elderly["id"],
            "services": ["medical_rounds", "two_way_referral"],
            "visit_count": 1,
            "visit_period": "week",
            "fee_payer": "elderly_care_party",
            "start_date": "2026-03-01",
            "end_date": "2027-02-28",
            **extra,
        }

    async def _transition(
        self,
        agreement: dict[str, Any],
        action: str,
        headers: dict[str, str],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = await self.live.contracts.post(
            f"{CONTRACTS}/agreements/{agreement['id']}/{action}",
            json=body or {},
            headers={**headers, "If-Match": f'"{agreement["version"]}"'},
        )
        assert response.status_code == 200, (action, response.text)
        return dict(response.json())

    async def agreement(
        self, medical: dict[str, Any], elderly: dict[str, Any], *, until: str = "countersign"
    ) -> dict[str, Any]:
        """Draft (by the elderly-care side), then submit and countersign (by the medical side)."""
        response = await self.live.contracts.post(
            f"{CONTRACTS}/agreements", json=self.agreement_body(medical, elderly), headers=self.admin(elderly)
        )
        assert response.status_code == 201, response.text
        agreement = dict(response.json())
        for action, party in (("submit", elderly), ("countersign", medical)):
            agreement = await self._transition(agreement, action, self.admin(party))
            if action == until:
                break
        return agreement

    async def terminate(self, agreement: dict[str, Any], party: dict[str, Any]) -> dict[str, Any]:
        return await self._transition(agreement, "terminate", self.admin(party), {"reason": "同步测试终止"})

    # ------------------------------------------------------------------------------------ homecare
    async def provider(self, region_code: str) -> dict[str, Any]:
        institution = await self.institution(
            region_code, "medical", internet_nursing_provider=True, home_bed_service=True
        )
        response = await self.live.homecare.put(
            f"{HOMECARE}/providers/{institution['id']}",
            json={"visit_fee_yuan": "50.00"},
            headers=self.admin(institution),
        )
        assert response.status_code == 201, response.text
        item = await self.live.homecare.put(
            f"{HOMECARE}/providers/{institution['id']}/items/HC01",
            json={"price_yuan": "80.00"},
            headers=self.admin(institution),
        )
        assert item.status_code == 200, item.text
        return institution

    def recipient_body(self, region_code: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": "同步阿婆",
            "id_number": id_number(region_code),
            "phone": f"139{next(_serial) % 100_000_000:08d}",
            "address": f"福建省测试街道 {next(_serial)} 号",
            "region_code": region_code,
            "latitude": 24.512,
            "longitude": 118.146,
            "disability_level": 2,
            "consent": {"given_at": "2026-11-01T02:00:00Z", "method": "written", "signed_by": "self"},
            **extra,
        }

    async def recipient(self, provider: dict[str, Any], region_code: str | None = None) -> dict[str, Any]:
        response = await self.live.homecare.post(
            f"{HOMECARE}/recipients",
            json=self.recipient_body(region_code or provider["region_code"]),
            headers=self.admin(provider),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def platform(self, city: str) -> dict[str, str]:
        return self.tokens.headers(Role.city_platform, city, sub=f"client:sync-platform-{city}")

    async def update_recipient(
        self,
        provider: dict[str, Any],
        recipient: dict[str, Any],
        headers: dict[str, str] | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        """PATCH as the provider's admin, or as ``headers`` say (an institution records only in its own
        county: a move to another county is a city platform's write)."""
        response = await self.live.homecare.patch(
            f"{HOMECARE}/recipients/{recipient['id']}",
            json=changes,
            headers={**(headers or self.admin(provider)), "If-Match": f'"{recipient["version"]}"'},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def order(self, provider: dict[str, Any], recipient: dict[str, Any]) -> dict[str, Any]:
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
        response = await self.live.homecare.post(
            f"{HOMECARE}/orders",
            json={
                "institution_id": provider["id"],
                "recipient_id": recipient["id"],
                "item_codes": ["HC01"],
                "window_start": start.isoformat(),
                "window_end": (start + timedelta(hours=2)).isoformat(),
            },
            headers=self.admin(provider),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def cancel_order(self, provider: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        response = await self.live.homecare.post(
            f"{HOMECARE}/orders/{order['id']}/cancel",
            json={"reason": "同步测试取消"},
            headers={**self.admin(provider), "If-Match": f'"{order["version"]}"'},
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


async def create_platform_client(
    gateway: httpx.AsyncClient, tokens: Tokens, region_code: str
) -> tuple[str, str]:
    """A city-platform API client made by the province admin at the gateway: (client_id, secret)."""
    client_id = f"sync_{region_code}_{uuid.uuid4().hex[:8]}"
    response = await gateway.post(
        "/api/v1/auth/clients",
        json={"client_id": client_id, "name": f"同步测试平台 {region_code}", "region_code": region_code},
        headers=tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 201, response.text
    return client_id, str(response.json()["client_secret"])
