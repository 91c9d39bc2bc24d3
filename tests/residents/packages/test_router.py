"""签约服务包: published by a primary-care institution, revised into numbered versions (the previous one
retired), retired; a contract keeps the version it was signed with; fees in yuan."""

from __future__ import annotations

from tests.residents.signings.flows import (
    PACKAGES,
    SIGNINGS,
    if_match,
    package,
    package_body,
    practice,
    resident,
    signed,
)
from tests.residents.world import HULI, SIMING, World


async def test_institution_publishes_a_basic_package_as_version_one(world: World) -> None:
    inst = await world.primary_care()
    made = await package(world, inst, "JC-2026", "basic", "120.5")
    assert made["version_no"] == 1
    assert made["status"] == "active"
    assert made["kind_label"] == "基础服务包"
    assert made["fee_yuan"] == "120.50"
    assert [i["code"] for i in made["items"]] == ["checkup", "followup"]
    assert made["region_code"] == HULI


async def test_revision_publishes_the_next_version_and_retires_the_previous(world: World) -> None:
    inst = await world.primary_care()
    admin = world.admin(inst)
    first = await package(world, inst, "JC", "basic", "100.00")
    body = {
        "name": "老年人基础服务包（2027 版）",
        "fee_yuan": "130.00",
        "items": [{"code": "checkup", "name": "年度健康体检", "times_per_year": 1}],
    }
    missing = await world.client.post(f"{PACKAGES}/{first['id']}/revise", json=body, headers=admin)
    assert missing.status_code == 428
    second = await world.client.post(
        f"{PACKAGES}/{first['id']}/revise", json=body, headers={**admin, **if_match(first)}
    )
    assert second.status_code == 201, second.text
    assert second.json()["version_no"] == 2
    assert second.json()["code"] == "JC"
    assert second.json()["kind"] == "basic"
    assert second.json()["fee_yuan"] == "130.00"
    old = await world.client.get(f"{PACKAGES}/{first['id']}", headers=admin)
    assert old.json()["status"] == "retired"
    again = await world.client.post(
        f"{PACKAGES}/{first['id']}/revise", json=body, headers={**admin, **if_match(old.json())}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "package_retired"
    listed = await world.client.get(PACKAGES, params={"code": "JC", "status": "active"}, headers=admin)
    assert [p["version_no"] for p in listed.json()["items"]] == [2]


async def test_same_code_twice_and_duplicate_items_are_refused(world: World) -> None:
    inst = await world.primary_care()
    await package(world, inst, "JC")
    twice = await world.client.post(PACKAGES, json=package_body("JC"), headers=world.admin(inst))
    assert twice.status_code == 409
    assert twice.json()["code"] == "package_code_exists"
    items = [
        {"code": "a", "name": "甲", "times_per_year": 1},
        {"code": "a", "name": "乙", "times_per_year": 2},
    ]
    duplicate = await world.client.post(
        PACKAGES, json=package_body("GX", items=items), headers=world.admin(inst)
    )
    assert duplicate.status_code == 422
    assert duplicate.json()["code"] == "duplicate_package_item"


async def test_bad_fees_are_refused_as_validation_errors(world: World) -> None:
    inst = await world.primary_care()
    for fee in ("-1", "12.345", "100001", "abc"):
        response = await world.client.post(
            PACKAGES, json=package_body("JC", fee=fee), headers=world.admin(inst)
        )
        assert response.status_code == 422, fee
        assert response.json()["code"] == "validation_failed"
    zero = await world.client.post(
        PACKAGES, json=package_body("FREE", fee="-0.00"), headers=world.admin(inst)
    )
    assert zero.status_code == 201
    assert zero.json()["fee_yuan"] == "0.00"


async def test_packages_are_published_only_by_primary_care_institutions(world: World) -> None:
    hospital = await world.institution(category="hospital")
    response = await world.client.post(PACKAGES, json=package_body("JC"), headers=world.admin(hospital))
    assert response.status_code == 422
    assert response.json()["code"] == "not_primary_care_institution"
    official = await world.client.post(PACKAGES, json=package_body("JC"), headers=world.county(HULI))
    assert official.status_code == 403


async def test_a_contract_keeps_the_version_it_was_signed_with(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    signing = await signed(world, p, person, package_ids=[p.basic["id"], p.personalised["id"]])
    assert signing["total_fee_yuan"] == "320.50"
    assert [(x["code"], x["version_no"], x["kind"]) for x in signing["packages"]] == [
        ("JC", 1, "basic"),
        ("GX-TNB", 1, "personalised"),
    ]
    revised = await world.client.post(
        f"{PACKAGES}/{p.basic['id']}/revise",
        json={
            "name": "新版",
            "fee_yuan": "150.00",
            "items": [{"code": "c", "name": "体检", "times_per_year": 1}],
        },
        headers={**world.admin(p.inst), **if_match(p.basic)},
    )
    assert revised.status_code == 201
    kept = await world.client.get(f"{SIGNINGS}/{signing['id']}", headers=world.admin(p.inst))
    assert kept.json()["packages"][0]["version_no"] == 1
    assert kept.json()["total_fee_yuan"] == "320.50"


async def test_officials_read_packages_of_their_region_only(world: World) -> None:
    p = await practice(world)
    seen = await world.client.get(f"{PACKAGES}/{p.basic['id']}", headers=world.county(HULI))
    assert seen.status_code == 200
    hidden = await world.client.get(f"{PACKAGES}/{p.basic['id']}", headers=world.county(SIMING))
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "package_not_found"
    retired = await world.client.post(
        f"{PACKAGES}/{p.personalised['id']}/retire",
        headers={**world.admin(p.inst), **if_match(p.personalised)},
    )
    assert retired.status_code == 200
    assert retired.json()["status"] == "retired"
