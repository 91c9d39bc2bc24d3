"""Who sees which applications: a county its own (and its institutions'), a city its counties', the province
all, an institution its own. Out-of-scope reads are 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from libs.common.auth import Role
from tests.registry.demonstration.flow import APPLICATIONS, Flow


async def _world(flow: Flow) -> dict[str, Any]:
    batch = await flow.batch()
    institution = await flow.institution(region="350206")
    apps = {
        "huli": await flow.apply_county(batch["id"], "350206"),
        "huli_institution": await flow.apply_institution(batch["id"], institution),
        "siming": await flow.apply_county(batch["id"], "350203"),
        "cangshan": await flow.apply_county(batch["id"], "350104"),
        "pingtan": await flow.apply_county(batch["id"], "350128"),
    }
    return {"batch": batch, "institution": institution, "apps": apps}


async def _visible(flow: Flow, headers: dict[str, str], batch_id: str, **params: str) -> set[str]:
    response = await flow.client.get(APPLICATIONS, params={"batch_id": batch_id, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["applicant_name"] for item in response.json()["items"]}


@pytest.mark.parametrize(
    ("role", "region", "expected"),
    [
        (Role.county_admin, "350206", {"湖里区", "huli_institution"}),
        (Role.county_admin, "350203", {"思明区"}),
        (Role.city_admin, "350200", {"湖里区", "huli_institution", "思明区"}),
        (Role.city_admin, "350100", {"仓山区"}),
        (Role.city_admin, "350128", {"平潭县"}),
        (Role.city_platform, "350200", {"湖里区", "huli_institution", "思明区"}),
        (Role.province_admin, "350000", {"湖里区", "huli_institution", "思明区", "仓山区", "平潭县"}),
        (Role.service, "350000", {"湖里区", "huli_institution", "思明区", "仓山区", "平潭县"}),
    ],
)
async def test_each_level_lists_what_lies_in_its_region(
    flow: Flow, role: Role, region: str, expected: set[str]
) -> None:
    world = await _world(flow)
    names = {
        world["apps"]["huli_institution"]["applicant_name"] if n == "huli_institution" else n
        for n in expected
    }
    assert await _visible(flow, flow.tokens.headers(role, region), world["batch"]["id"]) == names


async def test_institution_users_see_only_their_institutions_application(flow: Flow) -> None:
    world = await _world(flow)
    own = world["apps"]["huli_institution"]
    for role in (Role.institution_admin, Role.institution_staff):
        headers = flow.tokens.headers(role, "350206", institution_id=world["institution"])
        assert await _visible(flow, headers, world["batch"]["id"]) == {own["applicant_name"]}
        assert (await flow.client.get(f"{APPLICATIONS}/{own['id']}", headers=headers)).status_code == 200
        county_app = await flow.client.get(f"{APPLICATIONS}/{world['apps']['huli']['id']}", headers=headers)
        assert county_app.status_code == 404


@pytest.mark.parametrize(
    ("role", "region", "app"),
    [
        (Role.county_admin, "350203", "huli"),
        (Role.county_admin, "350203", "huli_institution"),
        (Role.city_admin, "350100", "pingtan"),
        (Role.city_admin, "350100", "siming"),
        (Role.city_admin, "350200", "cangshan"),
    ],
)
async def test_out_of_scope_reads_are_404(flow: Flow, role: Role, region: str, app: str) -> None:
    world = await _world(flow)
    application = world["apps"][app]
    headers = flow.tokens.headers(role, region)
    for path in ("", "/criteria", "/trail"):
        response = await flow.client.get(f"{APPLICATIONS}/{application['id']}{path}", headers=headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "demonstration_application_not_found"


async def test_out_of_scope_transitions_are_404_too(flow: Flow) -> None:
    world = await _world(flow)
    application = await flow.drive(world["apps"]["siming"], "submitted")
    response = await flow.act(application["id"], "city-recommend", flow.city("350100"), {"opinion": "推荐"})
    assert response.status_code == 404


async def test_the_list_filters_by_kind_state_and_county(flow: Flow) -> None:
    world = await _world(flow)
    await flow.drive(world["apps"]["siming"], "submitted")
    batch_id = world["batch"]["id"]
    province = flow.province()
    institutions = await _visible(flow, province, batch_id, kind="institution")
    submitted = await _visible(flow, province, batch_id, state="submitted")
    huli = await _visible(flow, province, batch_id, region_code="350206")
    assert institutions == {world["apps"]["huli_institution"]["applicant_name"]}
    assert submitted == {"思明区"}
    assert huli == {"湖里区", world["apps"]["huli_institution"]["applicant_name"]}


async def test_the_list_pages_with_a_cursor(flow: Flow) -> None:
    world = await _world(flow)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"batch_id": world["batch"]["id"], "limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await flow.client.get(APPLICATIONS, params=params, headers=flow.province())).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(a["id"] for a in world["apps"].values())
    assert len(seen) == len(set(seen))


async def test_an_unknown_application_is_404(flow: Flow) -> None:
    response = await flow.client.get(f"{APPLICATIONS}/{uuid.uuid4()}", headers=flow.province())
    assert response.status_code == 404
