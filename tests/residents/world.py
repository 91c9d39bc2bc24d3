"""The one place that makes residents test data: registry institutions and practitioners (through the
real registry API), callers of every role, and persons (through the residents API).

R2/R3/R4's tests build on it: ``world.primary_care()`` is a 社区卫生服务中心 of 湖里 in the registry,
``world.admin(inst)``/``world.staff(inst, practitioner_id)`` its users, ``world.person(inst)`` a
resident it registered.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.identifiers import id_number_check_char
from libs.common.testing import Tokens
from tests.residents.checkups.records import KINDS as HEALTH_MANAGEMENT_KINDS
from tests.residents.checkups.records import health_management_record

RES = "/api/v1/residents"
PERSONS = f"{RES}/persons"
REGISTRY = "/api/v1/registry"
HULI = "350206"
SIMING = "350203"
XIAMEN = "350200"
FUZHOU = "350100"
GULOU_FZ = "350102"
_counter = itertools.count(1)
_FIRST_BIRTH = date(1930, 1, 1)


def id_number(region: str = HULI, birth: date | None = None) -> str:
    """A valid 居民身份证号 (GB 11643 check character), unique within the test session (the birth date
    moves on every 900 numbers)."""
    n = next(_counter)
    born = birth or _FIRST_BIRTH + timedelta(days=n // 900)
    body = f"{region}{born:%Y%m%d}{100 + n % 900:03d}"
    return body + id_number_check_char(body)


def phone() -> str:
    return f"139{next(_counter) % 100_000_000:08d}"


@dataclass(frozen=True)
class Inst:
    id: uuid.UUID
    name: str
    region_code: str


class World:
    def __init__(self, client: httpx.AsyncClient, registry: httpx.AsyncClient, tokens: Tokens) -> None:
        self.client = client
        self.registry = registry
        self.tokens = tokens

    # ------------------------------------------------------------------------------------ callers
    def admin(self, inst: Inst) -> dict[str, str]:
        return self.tokens.headers(
            Role.institution_admin, inst.region_code, institution_id=inst.id, sub=f"admin:{inst.id}"
        )

    def staff(self, inst: Inst, practitioner_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.tokens.headers(
            Role.institution_staff,
            inst.region_code,
            institution_id=inst.id,
            practitioner_id=practitioner_id,
            sub=f"staff:{practitioner_id or inst.id}",
        )

    def county(self, code: str = HULI) -> dict[str, str]:
        return self.tokens.headers(Role.county_admin, code)

    def city(self, code: str = XIAMEN) -> dict[str, str]:
        return self.tokens.headers(Role.city_admin, code)

    def province(self) -> dict[str, str]:
        return self.tokens.headers(Role.province_admin, "350000")

    def platform(self, code: str = XIAMEN) -> dict[str, str]:
        return self.tokens.headers(Role.city_platform, code, sub=f"client:platform-{code}")

    def service(self, caller: str) -> dict[str, str]:
        return self.tokens.headers(Role.service, "350000", sub=f"service:{caller}")

    # ----------------------------------------------------------------------------------- registry
    async def institution(
        self,
        name: str | None = None,
        *,
        region_code: str = HULI,
        kind: str = "medical",
        category: str = "hospital",
    ) -> Inst:
        name = name or f"测试机构{next(_counter)}"
        body: dict[str, Any] = {"name": name, "kind": kind, "category": category, "region_code": region_code}
        if kind == "integrated":
            body["integrated_model"] = "medical_runs_elderly_care"
        response = await self.registry.post(
            f"{REGISTRY}/institutions", json=body, headers=self.tokens.headers(Role.county_admin, region_code)
        )
        assert response.status_code == 201, response.text
        return Inst(uuid.UUID(response.json()["id"]), name, region_code)

    async def primary_care(
        self, *, region_code: str = HULI, category: str = "community_health_center", name: str | None = None
    ) -> Inst:
        """A primary-care institution (社区卫生服务中心 by default; ``township_health_center``,
        ``village_clinic``, ``community_health_station`` the others)."""
        return await self.institution(
            name or f"测试社区卫生服务中心{next(_counter)}", region_code=region_code, category=category
        )

    async def practitioner(
        self,
        inst: Inst,
        *,
        kind: str = "doctor",
        title: str | None = None,
        years: int = 8,
        name: str | None = None,
    ) -> uuid.UUID:
        title = title or {"nurse": "supervising_nurse", "doctor": "attending_physician"}.get(kind)
        body: dict[str, Any] = {
            "institution_id": str(inst.id),
            "name": name or f"测试{next(_counter)}",
            "kind": kind,
            "title": title,
            "practice_certificate_no": f"CERT{next(_counter):08d}",
            "clinical_years": years,
            "trainings": [],
        }
        response = await self.registry.post(
            f"{REGISTRY}/practitioners",
            json=body,
            headers=self.tokens.headers(Role.county_admin, inst.region_code),
        )
        assert response.status_code == 201, response.text
        return uuid.UUID(response.json()["id"])

    # ----------------------------------------------------------------------------------- persons
    def person_body(self, region_code: str = HULI, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "陈阿婆",
            "id_number": id_number(region_code),
            "phone": phone(),
            "address": "福建省厦门市湖里区殿前街道高殿社区 12 号",
            "region_code": region_code,
        }
        body.update(overrides)
        return body

    async def person(
        self, inst: Inst | None = None, *, headers: dict[str, str] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """A person registered by ``inst`` (its admin), or by whoever ``headers`` name; the masked answer."""
        region = overrides.pop("region_code", inst.region_code if inst else HULI)
        response = await self.client.post(
            PERSONS,
            json=self.person_body(region, **overrides),
            headers=headers or (self.admin(inst) if inst else self.platform()),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


async def scoped_record(world: World, inst: Inst, kind: str) -> str:
    """One record of ``kind`` made by ``inst`` (a primary-care institution) in its county; its id. The
    scope tests (test_scope_by_id, test_scope_lists) call it for every by-id endpoint and list: each
    module adds its kinds here."""
    if kind == "person":
        return str((await world.person(inst))["id"])
    if kind in ("team", "package", "signing"):
        from tests.residents.signings import flows  # here: flows builds on this module

        doctor = await world.practitioner(inst, kind="doctor")
        team = await flows.team(world, inst, [(doctor, "general_practitioner")])
        if kind == "team":
            return str(team["id"])
        basic = await flows.package(world, inst, "JC")
        if kind == "package":
            return str(basic["id"])
        person = await world.person(inst)
        signing = await world.client.post(
            flows.SIGNINGS,
            json={"person_id": person["id"], "team_id": team["id"], "package_ids": [basic["id"]]},
            headers=world.staff(inst),
        )
        assert signing.status_code == 201, signing.text
        return str(signing.json()["id"])
    if kind in HEALTH_MANAGEMENT_KINDS:
        return await health_management_record(world, inst, kind)
    raise AssertionError(f"no maker for {kind!r}: add it to tests/residents/world.py scoped_record")
