"""Who sees a 湖里 order and its recipient: by region for administrations and city platforms, by
institution for institution users; out of scope reads are 404."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.auth import Role
from tests.homecare.world import HC, World, crew

VIEWERS: list[tuple[str, Role | None, str, bool]] = [
    ("province", Role.province_admin, "350000", True),
    ("xiamen city", Role.city_admin, "350200", True),
    ("fuzhou city", Role.city_admin, "350100", False),
    ("pingtan", Role.city_admin, "350128", False),
    ("huli county", Role.county_admin, "350206", True),
    ("siming county", Role.county_admin, "350203", False),
    ("xiamen platform", Role.city_platform, "350200", True),
    ("fuzhou platform", Role.city_platform, "350100", False),
    ("service", Role.service, "350000", True),
    ("provider admin", None, "provider", True),
    ("provider nurse", None, "nurse", True),
    ("other provider", None, "other", False),
]


@pytest.mark.parametrize(("label", "role", "region", "sees"), VIEWERS, ids=[v[0] for v in VIEWERS])
async def test_scope_matrix(world: World, label: str, role: Role | None, region: str, sees: bool) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    if role is not None:
        headers = world.tokens.headers(role, region)
    elif region == "provider":
        headers = world.admin(c.provider)
    elif region == "nurse":
        headers = world.staff(c.provider, c.nurse)
    else:
        headers = world.admin(await world.provider())
    paths: dict[str, Any] = {
        "order": f"{HC}/orders/{order['id']}",
        "recipient": f"{HC}/recipients/{c.recipient['id']}",
        "provider": f"{HC}/providers/{c.provider.id}",
    }
    for what, path in paths.items():
        response = await world.client.get(path, headers=headers)
        if what == "recipient" and role is Role.service:
            assert response.status_code == 200
            continue
        assert response.status_code == (200 if sees else 404), (label, what, response.text)
    listed = await world.client.get(f"{HC}/orders", headers=headers)
    assert (order["id"] in [o["id"] for o in listed.json()["items"]]) is sees
    if sees and response.status_code == 200 and what == "provider":
        detail = (await world.client.get(paths["order"], headers=headers)).json()
        assert detail["disclosed"] is (region in ("provider", "nurse"))


async def test_writes_out_of_scope_are_403(world: World) -> None:
    c = await crew(world)
    fz_body = world.recipient_body(region_code="350104", address="福建省福州市仓山区 1 号")
    response = await world.client.post(f"{HC}/recipients", json=fz_body, headers=world.platform())
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"
    other = await world.provider()
    foreign = await world.client.put(
        f"{HC}/providers/{c.provider.id}/items/HC02", json={"price_yuan": "10"}, headers=world.admin(other)
    )
    assert foreign.status_code == 403
