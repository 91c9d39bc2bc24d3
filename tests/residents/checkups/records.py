"""Records of check-ups, assessments and care services for the scope tests (``world.scoped_record``):
each made by ``inst`` for a person it registered, dated today (the current care-service window)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from libs.common.clock import today_in_china
from services.residents.care_services.windows import window_of
from tests.residents.assessments.scores import scores_totalling

if TYPE_CHECKING:
    from tests.residents.world import Inst, World

KINDS = frozenset({"checkup", "assessment", "assessed_person", "care_service"})
RES = "/api/v1/residents"


def owed_params() -> dict[str, str]:
    """The owed list's query for the window of today (where a record made here is owed)."""
    window = window_of(today_in_china(), [1, 7])
    return {"year": str(window.year), "window": str(window.number)}


async def _post(world: World, inst: Inst, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await world.client.post(f"{RES}{path}", json=body, headers=world.admin(inst))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def health_management_record(world: World, inst: Inst, kind: str) -> str:
    """The id of a ``kind`` record (an ``assessed_person`` is a person with a 失能 assessment)."""
    person = await world.person(inst)
    today = today_in_china().isoformat()
    if kind == "checkup":
        checkup = await _post(
            world,
            inst,
            "/checkups",
            {"person_id": person["id"], "parts": [{"code": "ecg", "done_date": today}]},
        )
        return str(checkup["id"])
    assessment = await _post(
        world,
        inst,
        "/assessments",
        {"person_id": person["id"], "assessed_date": today, "scores": scores_totalling(40)},
    )
    if kind == "assessment":
        return str(assessment["id"])
    if kind == "assessed_person":
        return str(person["id"])
    service = await _post(
        world,
        inst,
        "/care-services",
        {
            "person_id": person["id"],
            "client_record_id": str(uuid.uuid4()),
            "service_date": today,
            "kinds": ["health_assessment"],
        },
    )
    return str(service["id"])
