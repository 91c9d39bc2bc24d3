"""Where a recipient or an order is recorded (issue 11, finding 5): an institution user records in its
institution's county, so the record stays in view of that county, its city and the city platform; a
city platform records anywhere in its city. A refused write writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.homecare.world import HC, HULI, SIMING, Crew, Inst, World, crew

FUZHOU_CANGSHAN = "350104"
FUZHOU_ADDRESS = "福建省福州市仓山区仓山镇 1 号"
SIMING_ADDRESS = "福建省厦门市思明区鹭江道 100 号"

Caller = Callable[[World, Crew], dict[str, str]]
CALLERS: dict[str, Caller] = {
    "institution admin": lambda w, c: w.admin(c.provider),
    "institution staff": lambda w, c: w.staff(c.provider, c.nurse),
}
#: another county of the same city, and a county of another city
ELSEWHERE = [(SIMING, SIMING_ADDRESS), (FUZHOU_CANGSHAN, FUZHOU_ADDRESS)]


def _order_body(inst: Inst, recipient_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "institution_id": str(inst.id),
        "recipient_id": recipient_id,
        "item_codes": ["HC01"],
        "window_start": "2099-12-01T09:00:00+08:00",
        "window_end": "2099-12-01T11:00:00+08:00",
        **extra,
    }


async def _count(world: World, path: str) -> int:
    listed = await world.client.get(f"{HC}/{path}?limit=200", headers=world.city())
    assert listed.status_code == 200, listed.text
    return len(listed.json()["items"])


@pytest.mark.parametrize("caller", CALLERS, ids=list(CALLERS))
@pytest.mark.parametrize(("region", "address"), ELSEWHERE, ids=["siming", "fuzhou"])
async def test_an_institution_user_cannot_register_a_recipient_outside_its_county(
    world: World, caller: str, region: str, address: str
) -> None:
    c = await crew(world)
    before = await _count(world, "recipients")
    body = world.recipient_body(region_code=region, address=address)
    response = await world.client.post(f"{HC}/recipients", json=body, headers=CALLERS[caller](world, c))
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "region_not_institution_county"
    assert await _count(world, "recipients") == before


@pytest.mark.parametrize("caller", CALLERS, ids=list(CALLERS))
async def test_an_institution_user_registers_recipients_in_its_county(world: World, caller: str) -> None:
    c = await crew(world)
    response = await world.client.post(
        f"{HC}/recipients", json=world.recipient_body(), headers=CALLERS[caller](world, c)
    )
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == HULI
    seen = await world.client.get(f"{HC}/recipients/{response.json()['id']}", headers=world.county(HULI))
    assert seen.status_code == 200


@pytest.mark.parametrize("caller", CALLERS, ids=list(CALLERS))
@pytest.mark.parametrize(("region", "address"), ELSEWHERE, ids=["siming", "fuzhou"])
async def test_an_institution_user_cannot_move_a_recipient_out_of_its_county(
    world: World, caller: str, region: str, address: str
) -> None:
    c = await crew(world)
    path = f"{HC}/recipients/{c.recipient['id']}"
    response = await world.client.patch(
        path,
        json={"region_code": region, "address": address},
        headers={**CALLERS[caller](world, c), "If-Match": f'"{c.recipient["version"]}"'},
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "region_not_institution_county"
    still = await world.client.get(path, headers=world.county(HULI))
    assert still.status_code == 200
    assert (still.json()["region_code"], still.json()["version"]) == (HULI, c.recipient["version"])


@pytest.mark.parametrize("caller", CALLERS, ids=list(CALLERS))
@pytest.mark.parametrize(("region", "address"), ELSEWHERE, ids=["siming", "fuzhou"])
async def test_an_institution_user_cannot_place_an_order_outside_its_county(
    world: World, caller: str, region: str, address: str
) -> None:
    c = await crew(world)
    before = await _count(world, "orders")
    body = _order_body(c.provider, c.recipient["id"], region_code=region, address=address)
    response = await world.client.post(f"{HC}/orders", json=body, headers=CALLERS[caller](world, c))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "region_not_institution_county"
    assert await _count(world, "orders") == before


@pytest.mark.parametrize("caller", CALLERS, ids=list(CALLERS))
async def test_an_institution_user_places_orders_in_its_county_seen_by_its_supervisors(
    world: World, caller: str
) -> None:
    c = await crew(world)
    body = _order_body(c.provider, c.recipient["id"])
    response = await world.client.post(f"{HC}/orders", json=body, headers=CALLERS[caller](world, c))
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == HULI
    for headers in (world.county(HULI), world.city(), world.platform()):
        seen = await world.client.get(f"{HC}/orders/{response.json()['id']}", headers=headers)
        assert seen.status_code == 200


async def test_a_city_platform_records_in_its_city_and_not_beyond(world: World) -> None:
    c = await crew(world)
    platform = world.platform()
    # another county of its city: allowed, for a recipient and an order alike
    siming = await world.client.post(
        f"{HC}/recipients",
        json=world.recipient_body(
            region_code=SIMING, address=SIMING_ADDRESS, institution_id=str(c.provider.id)
        ),
        headers=platform,
    )
    assert siming.status_code == 201, siming.text
    placed = await world.client.post(
        f"{HC}/orders",
        json=_order_body(c.provider, c.recipient["id"], region_code=SIMING, address=SIMING_ADDRESS),
        headers=platform,
    )
    assert placed.status_code == 201, placed.text
    # another city: refused, whether registering, moving or ordering
    before = (await _count(world, "recipients"), await _count(world, "orders"))
    fuzhou = world.recipient_body(region_code=FUZHOU_CANGSHAN, address=FUZHOU_ADDRESS)
    created = await world.client.post(f"{HC}/recipients", json=fuzhou, headers=platform)
    moved = await world.client.patch(
        f"{HC}/recipients/{siming.json()['id']}",
        json={"region_code": FUZHOU_CANGSHAN, "address": FUZHOU_ADDRESS},
        headers={**platform, "If-Match": siming.headers["etag"]},
    )
    ordered = await world.client.post(
        f"{HC}/orders",
        json=_order_body(c.provider, c.recipient["id"], region_code=FUZHOU_CANGSHAN, address=FUZHOU_ADDRESS),
        headers=platform,
    )
    for response in (created, moved, ordered):
        assert (response.status_code, response.json()["code"]) == (403, "out_of_scope"), response.text
    assert (await _count(world, "recipients"), await _count(world, "orders")) == before
