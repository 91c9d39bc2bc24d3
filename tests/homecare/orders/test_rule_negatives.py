"""Negatives written from the domain rules (shared/domain/rules.md, config_defaults.csv), not from the
code: the per-item nurse title, the check-in radius at its boundary, the check-out distance flag.

- rules.md: nurses need 护师 or above; an item of the catalog may ask for a higher title
  (``required_title``): a nurse below it is refused for that order.
- config_defaults.csv: ``homecare.checkin_radius_m`` = 300: "check-in farther than this from the address
  is flagged" — so exactly at the radius is not flagged, one metre beyond it is; the same distance rule
  holds at check-out (the nurse's location during service is part of 全程留痕).
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.homecare.orders import geo
from tests.homecare.world import HC, HOME, Crew, World, crew, located, to_status

CATALOG = (
    Path(__file__).resolve().parents[3] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"
)
RADIUS_M = 300  # config_defaults.csv: homecare.checkin_radius_m
MEAN_EARTH_RADIUS_M = 6_371_008.8


async def _publish_catalog_where_hc01_needs(world: World, title: str) -> None:
    with CATALOG.open(encoding="utf-8") as handle:
        rows: list[dict[str, Any]] = list(csv.DictReader(handle))
    for row in rows:
        row["required_title"] = title if row["code"] == "HC01" else ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    response = await world.client.post(
        f"{HC}/catalog/versions",
        data={"code": f"titled-{uuid.uuid4().hex[:8]}", "source": "测试：HC01 须主管护师"},
        files={"file": ("catalog.csv", out.getvalue().encode("utf-8"), "text/csv")},
        headers=world.province(),
    )
    assert response.status_code == 201, response.text
    hc01 = next(i for i in response.json()["items"] if i["code"] == "HC01")
    assert hc01["required_title"] == title


async def _assign(world: World, c: Crew, nurse: uuid.UUID) -> Any:
    order = await world.order(c.provider, c.recipient["id"], items=["HC01"])
    await to_status(world, c, order, "accepted")
    return await world.act(
        order["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(nurse)}
    )


async def test_an_item_needing_a_higher_title_refuses_a_nurse_below_it(world: World) -> None:
    c = await crew(world)
    await _publish_catalog_where_hc01_needs(world, "主管护师")
    senior = await world.practitioner(c.provider, title="senior_nurse")  # 护师: eligible in general
    refused = await _assign(world, c, senior)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "nurse_not_qualified"


@pytest.mark.parametrize("title", ["supervising_nurse", "associate_chief_nurse", "chief_nurse"])
async def test_an_item_needing_a_title_accepts_a_nurse_at_or_above_it(world: World, title: str) -> None:
    c = await crew(world)
    await _publish_catalog_where_hc01_needs(world, "主管护师")
    nurse = await world.practitioner(c.provider, title=title)
    assigned = await _assign(world, c, nurse)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status"] == "assigned"


async def test_without_an_item_title_a_nurse_who_meets_the_general_rule_is_accepted(world: World) -> None:
    c = await crew(world)
    senior = await world.practitioner(c.provider, title="senior_nurse")
    assigned = await _assign(world, c, senior)
    assert assigned.status_code == 200, assigned.text


def _north_of_home(metres: float) -> float:
    """The farthest latitude due north of HOME (along the meridian, on the mean-radius sphere) that is
    not farther than ``metres`` from it: "at the radius" to within a nanometre, as no float lands on
    it exactly."""
    lat = HOME[0] + math.degrees(metres / MEAN_EARTH_RADIUS_M)
    while geo.distance_m(HOME[0], HOME[1], lat, HOME[1]) > metres:
        lat = math.nextafter(lat, -math.inf)
    while geo.distance_m(HOME[0], HOME[1], math.nextafter(lat, math.inf), HOME[1]) <= metres:
        lat = math.nextafter(lat, math.inf)
    return lat


@pytest.mark.parametrize(
    ("metres", "flagged"),
    [(RADIUS_M - 1, False), (RADIUS_M, False), (RADIUS_M + 1, True)],
    ids=["just_inside", "at_radius", "just_outside"],
)
async def test_check_in_radius_boundary(world: World, metres: int, flagged: bool) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "en_route")
    lat = _north_of_home(metres)
    assert abs(geo.distance_m(HOME[0], HOME[1], lat, HOME[1]) - metres) < 0.01
    response = await world.act(
        order["id"], "check-in", world.staff(c.provider, c.nurse), located(lat, HOME[1])
    )
    assert response.status_code == 200, response.text
    assert response.json()["flagged"] is flagged
    assert response.json()["flag_reasons"] == (["far_from_address"] if flagged else [])


@pytest.mark.parametrize(("metres", "flagged"), [(1_100, True), (RADIUS_M - 1, False)])
async def test_check_out_far_from_the_address_is_flagged(world: World, metres: int, flagged: bool) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "assigned")
    now = datetime.now(UTC)
    nurse = world.staff(c.provider, c.nurse)
    assert (await world.act(order["id"], "depart", nurse, {})).status_code == 200
    check_in = await world.act(order["id"], "check-in", nurse, located(at=now - timedelta(minutes=50)))
    assert check_in.json()["flagged"] is False, check_in.text
    assert (await world.act(order["id"], "start", nurse, {})).status_code == 200
    # 50 minutes later, at walking pace at most: only the distance can flag it
    out = located(_north_of_home(metres), HOME[1], at=now)
    response = await world.act(order["id"], "check-out", nurse, out)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_out"
    assert response.json()["flag_reasons"] == (["far_from_address"] if flagged else [])
