"""家庭医生签约 test data made through the API: a primary-care institution with a team (a 全科医生 leads
it), its packages, and a resident it registered. Teams, packages and signings tests build on it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from tests.residents.world import HULI, RES, Inst, World, id_number

TEAMS = f"{RES}/teams"
PACKAGES = f"{RES}/packages"
SIGNINGS = f"{RES}/signings"


def if_match(body: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{body["version"]}"'}


def package_body(code: str, kind: str = "basic", fee: str = "120.00", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "老年人基础服务包" if kind == "basic" else "慢病个性化服务包",
        "kind": kind,
        "fee_yuan": fee,
        "items": [
            {"code": "checkup", "name": "年度健康体检", "times_per_year": 1},
            {"code": "followup", "name": "健康随访", "times_per_year": 4},
        ],
    }
    body.update(overrides)
    return body


@dataclass
class Practice:
    """A primary-care institution with a team and packages."""

    inst: Inst
    doctor: uuid.UUID
    nurse: uuid.UUID
    team: dict[str, Any]
    basic: dict[str, Any]
    personalised: dict[str, Any]


async def team(
    world: World, inst: Inst, members: list[tuple[uuid.UUID, str]], name: str | None = None
) -> dict[str, Any]:
    response = await world.client.post(
        TEAMS,
        json={
            "name": name or f"家庭医生团队{uuid.uuid4().hex[:6]}",
            "members": [{"practitioner_id": str(p), "role": r} for p, r in members],
        },
        headers=world.admin(inst),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def package(
    world: World, inst: Inst, code: str, kind: str = "basic", fee: str = "120.00"
) -> dict[str, Any]:
    response = await world.client.post(
        PACKAGES, json=package_body(code, kind, fee), headers=world.admin(inst)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def practice(world: World, *, region_code: str = HULI) -> Practice:
    inst = await world.primary_care(region_code=region_code)
    doctor = await world.practitioner(inst, kind="doctor")
    nurse = await world.practitioner(inst, kind="nurse")
    made = await team(world, inst, [(doctor, "general_practitioner"), (nurse, "health_manager")])
    basic = await package(world, inst, "JC", "basic", "120.00")
    personalised = await package(world, inst, "GX-TNB", "personalised", "200.50")
    return Practice(inst, doctor, nurse, made, basic, personalised)


async def resident(world: World, inst: Inst, birth: date = date(1950, 5, 1)) -> dict[str, Any]:
    return await world.person(inst, id_number=id_number(inst.region_code, birth=birth))


def signing_body(p: Practice, person: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "person_id": person["id"],
        "team_id": p.team["id"],
        "package_ids": [p.basic["id"]],
    }
    body.update(overrides)
    return body


async def signed(world: World, p: Practice, person: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    response = await world.client.post(
        SIGNINGS, json=signing_body(p, person, **overrides), headers=world.staff(p.inst)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
