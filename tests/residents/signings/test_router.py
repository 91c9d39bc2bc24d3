"""家庭医生签约: sign for a year, one contract per person at a time, renew before or at expiry (a new
contract linked to the old), terminate with a reason code, transfer to another team in one step."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from libs.common.clock import ManualClock
from tests.residents.signings.flows import (
    SIGNINGS,
    TEAMS,
    Practice,
    if_match,
    package,
    practice,
    resident,
    signed,
    signing_body,
)
from tests.residents.world import HULI, PERSONS, SIMING, World, id_number

pytestmark = pytest.mark.usefixtures("clock")
RES_PACKAGES = "/api/v1/residents/packages"


async def test_a_contract_runs_one_year_from_today(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    made = await signed(world, p, person)
    assert made["status"] == "active"
    assert made["status_label"] == "履约中"
    assert made["origin"] == "new"
    assert made["start_date"] == "2026-03-16"
    assert made["end_date"] == "2027-03-15"
    assert made["renewal_opens_on"] == "2027-02-13"
    assert made["in_force"] is True
    assert made["elderly_at_start"] is True
    assert made["region_code"] == HULI
    assert made["institution_id"] == str(p.inst.id)
    assert made["allowed_actions"] == ["renew", "terminate"]
    assert made["total_fee_yuan"] == "120.00"


async def test_a_second_contract_for_the_same_person_is_refused(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    await signed(world, p, person)
    again = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=world.staff(p.inst))
    assert again.status_code == 409
    assert again.json()["code"] == "active_signing_exists"
    doctor = await world.practitioner(p.inst, kind="doctor")
    other_team = await world.client.post(
        TEAMS,
        json={
            "name": "二团队",
            "members": [{"practitioner_id": str(doctor), "role": "general_practitioner"}],
        },
        headers=world.admin(p.inst),
    )
    second = await world.client.post(
        SIGNINGS,
        json=signing_body(p, person, team_id=other_team.json()["id"]),
        headers=world.staff(p.inst),
    )
    assert second.status_code == 409
    assert second.json()["code"] == "active_signing_exists"


async def test_start_date_may_not_be_in_the_future(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    response = await world.client.post(
        SIGNINGS, json=signing_body(p, person, start_date="2026-03-17"), headers=world.staff(p.inst)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "start_date_invalid"


async def test_packages_are_one_basic_and_in_use_at_the_teams_institution(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    other = await world.primary_care()
    foreign = await package(world, other, "JC")
    second_basic = await package(world, p.inst, "JC2")
    for ids in (
        [p.personalised["id"]],
        [p.basic["id"], second_basic["id"]],
        [foreign["id"]],
        [p.basic["id"], p.basic["id"]],
    ):
        response = await world.client.post(
            SIGNINGS, json=signing_body(p, person, package_ids=ids), headers=world.staff(p.inst)
        )
        assert response.status_code == 422, ids
        assert response.json()["code"] == "packages_invalid"
    retired = await world.client.post(
        f"{RES_PACKAGES}/{p.basic['id']}/retire", headers={**world.admin(p.inst), **if_match(p.basic)}
    )
    assert retired.status_code == 200
    response = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=world.staff(p.inst))
    assert response.status_code == 422
    assert response.json()["code"] == "packages_invalid"


async def test_only_the_teams_institution_signs_with_a_team_in_use(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    other = await world.primary_care()
    foreign = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=world.staff(other))
    assert foreign.status_code == 404
    assert foreign.json()["code"] == "team_not_found"
    official = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=world.county(HULI))
    assert official.status_code == 403
    stopped = await world.client.post(
        f"{TEAMS}/{p.team['id']}/deactivate", headers={**world.admin(p.inst), **if_match(p.team)}
    )
    assert stopped.status_code == 200
    inactive = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=world.staff(p.inst))
    assert inactive.status_code == 409
    assert inactive.json()["code"] == "team_inactive"


async def test_a_person_the_institution_does_not_serve_is_not_found(world: World) -> None:
    p = await practice(world)
    other = await world.primary_care()
    stranger = await resident(world, other)
    response = await world.client.post(SIGNINGS, json=signing_body(p, stranger), headers=world.staff(p.inst))
    assert response.status_code == 404
    assert response.json()["code"] == "person_not_found"


async def _renew(world: World, p: Practice, made: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    return await world.client.post(
        f"{SIGNINGS}/{made['id']}/renew", json=body, headers={**world.staff(p.inst), **if_match(made)}
    )


async def test_renewal_opens_thirty_days_before_the_end_and_links_the_new_contract(
    world: World, clock: ManualClock
) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    made = await signed(world, p, person)
    clock.set_today(date(2027, 2, 12))
    early = await _renew(world, p, made)
    assert early.status_code == 422
    assert early.json()["code"] == "renewal_not_open"
    assert early.json()["extra"]["renewal_opens_on"] == "2027-02-13"
    clock.set_today(date(2027, 2, 13))
    renewed = await _renew(world, p, made)
    assert renewed.status_code == 201, renewed.text
    successor = renewed.json()
    assert successor["origin"] == "renewal"
    assert successor["previous_signing_id"] == made["id"]
    assert successor["start_date"] == "2027-03-16"
    assert successor["end_date"] == "2028-03-15"
    assert successor["in_force"] is False  # starts when the old one ends
    assert successor["packages"][0]["code"] == "JC"
    old = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.staff(p.inst))
    assert old.json()["status"] == "renewed"
    assert old.json()["in_force"] is True
    assert old.json()["allowed_actions"] == []
    twice = await _renew(world, p, old.json())
    assert twice.status_code == 409
    assert twice.json()["code"] == "illegal_transition"


async def test_renewal_at_the_end_date_is_allowed_and_the_day_after_is_not(
    world: World, clock: ManualClock
) -> None:
    p = await practice(world)
    first = await signed(world, p, await resident(world, p.inst))
    second = await signed(world, p, await resident(world, p.inst))
    clock.set_today(date(2027, 3, 15))
    assert (await _renew(world, p, first)).status_code == 201
    clock.set_today(date(2027, 3, 16))
    late = await _renew(world, p, second)
    assert late.status_code == 409
    assert late.json()["code"] == "signing_expired"


async def test_renewal_needs_if_match(world: World, clock: ManualClock) -> None:
    p = await practice(world)
    made = await signed(world, p, await resident(world, p.inst))
    clock.set_today(date(2027, 3, 1))
    missing = await world.client.post(f"{SIGNINGS}/{made['id']}/renew", headers=world.staff(p.inst))
    assert missing.status_code == 428
    stale = await world.client.post(
        f"{SIGNINGS}/{made['id']}/renew", headers={**world.staff(p.inst), "If-Match": '"99"'}
    )
    assert stale.status_code == 412


async def test_renewal_takes_the_packages_current_version_or_the_ones_named(
    world: World, clock: ManualClock
) -> None:
    p = await practice(world)
    made = await signed(world, p, await resident(world, p.inst))
    other = await signed(world, p, await resident(world, p.inst))
    revised = await world.client.post(
        f"{RES_PACKAGES}/{p.basic['id']}/revise",
        json={
            "name": "基础包 2027",
            "fee_yuan": "150.00",
            "items": [{"code": "c", "name": "体检", "times_per_year": 1}],
        },
        headers={**world.admin(p.inst), **if_match(p.basic)},
    )
    clock.set_today(date(2027, 3, 1))
    renewed = await _renew(world, p, made)
    assert renewed.status_code == 201, renewed.text
    assert [(x["code"], x["version_no"]) for x in renewed.json()["packages"]] == [("JC", 2)]
    assert renewed.json()["total_fee_yuan"] == "150.00"
    named = await _renew(world, p, other, {"package_ids": [revised.json()["id"], p.personalised["id"]]})
    assert named.status_code == 201, named.text
    assert named.json()["total_fee_yuan"] == "350.50"


async def test_a_lapsed_contract_is_closed_as_expired_when_the_person_signs_anew(
    world: World, clock: ManualClock
) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    made = await signed(world, p, person)
    clock.set_today(date(2027, 4, 1))
    lapsed = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.staff(p.inst))
    assert lapsed.json()["in_force"] is False
    anew = await signed(world, p, person)
    assert anew["origin"] == "new"
    assert anew["previous_signing_id"] is None
    old = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.staff(p.inst))
    assert old.json()["status"] == "expired"
    assert old.json()["status_label"] == "已到期未续签"


async def test_termination_ends_the_contract_with_a_reason_and_frees_the_person(
    world: World, clock: ManualClock
) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    made = await signed(world, p, person)
    clock.set_today(date(2026, 9, 1))
    url = f"{SIGNINGS}/{made['id']}/terminate"
    headers = {**world.staff(p.inst), **if_match(made)}
    future = await world.client.post(
        url, json={"reason": "died", "ended_date": "2026-09-02"}, headers=headers
    )
    assert future.status_code == 422
    assert future.json()["code"] == "ended_date_invalid"
    before = await world.client.post(
        url, json={"reason": "died", "ended_date": "2026-03-15"}, headers=headers
    )
    assert before.status_code == 422
    assert before.json()["code"] == "ended_date_invalid"
    unknown = await world.client.post(url, json={"reason": "bored"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "validation_failed"
    ended = await world.client.post(
        url, json={"reason": "moved_away", "ended_date": "2026-08-20"}, headers=headers
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"
    assert ended.json()["termination_reason"] == "moved_away"
    assert ended.json()["termination_reason_label"] == "迁出服务区域"
    assert ended.json()["ended_date"] == "2026-08-20"
    assert ended.json()["in_force"] is False
    again = await world.client.post(
        url, json={"reason": "died"}, headers={**world.staff(p.inst), **if_match(ended.json())}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    anew = await signed(world, p, person)
    assert anew["start_date"] == "2026-09-01"


async def _serve(world: World, p: Practice, person_id_number: str) -> dict[str, Any]:
    """The institution registers the person too (find-or-create by ID number links it)."""
    response = await world.client.post(
        PERSONS, json=world.person_body(HULI, id_number=person_id_number), headers=world.admin(p.inst)
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def test_transfer_ends_the_old_contract_and_starts_one_with_the_new_team_at_once(
    world: World, clock: ManualClock
) -> None:
    old_practice = await practice(world)
    new_practice = await practice(world)
    number = id_number(HULI, birth=date(1948, 7, 8))
    person = await world.person(old_practice.inst, id_number=number)
    made = await signed(world, old_practice, person)
    clock.set_today(date(2026, 7, 1))
    await _serve(world, new_practice, number)
    body = {
        "person_id": person["id"],
        "team_id": new_practice.team["id"],
        "package_ids": [new_practice.basic["id"]],
    }
    moved = await world.client.post(
        f"{SIGNINGS}/transfers", json=body, headers=world.staff(new_practice.inst)
    )
    assert moved.status_code == 201, moved.text
    successor = moved.json()
    assert successor["origin"] == "transfer"
    assert successor["previous_signing_id"] == made["id"]
    assert successor["team_id"] == new_practice.team["id"]
    assert successor["start_date"] == "2026-07-01"
    assert successor["end_date"] == "2027-06-30"
    old = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.staff(old_practice.inst))
    assert old.json()["status"] == "transferred"
    assert old.json()["ended_date"] == "2026-07-01"
    hidden = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.staff(new_practice.inst))
    assert hidden.status_code == 404
    same = await world.client.post(f"{SIGNINGS}/transfers", json=body, headers=world.staff(new_practice.inst))
    assert same.status_code == 409
    assert same.json()["code"] == "transfer_to_same_team"


async def test_transfer_needs_a_contract_in_force(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    body = {"person_id": person["id"], "team_id": p.team["id"], "package_ids": [p.basic["id"]]}
    response = await world.client.post(f"{SIGNINGS}/transfers", json=body, headers=world.staff(p.inst))
    assert response.status_code == 409
    assert response.json()["code"] == "no_signing_in_force"


async def test_officials_read_contracts_in_their_region_only(world: World) -> None:
    p = await practice(world)
    made = await signed(world, p, await resident(world, p.inst))
    county = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.county(HULI))
    assert county.status_code == 200
    elsewhere = await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.county(SIMING))
    assert elsewhere.status_code == 404
    assert elsewhere.json()["code"] == "signing_not_found"
    listed = await world.client.get(SIGNINGS, params={"team_id": p.team["id"]}, headers=world.city())
    assert [s["id"] for s in listed.json()["items"]] == [made["id"]]


async def test_the_feed_carries_the_contract_without_personal_data(world: World) -> None:
    p = await practice(world)
    made = await signed(world, p, await resident(world, p.inst))
    feed = await world.client.get(
        "/api/v1/residents/changes", params={"entity_types": "signing"}, headers=world.service("indicators")
    )
    assert feed.status_code == 200, feed.text
    entries = [e for e in feed.json()["items"] if e["entity_id"] == made["id"]]
    assert len(entries) == 1
    data = entries[0]["data"]
    assert data["status"] == "active"
    assert data["elderly_at_start"] is True
    assert data["person_id"] == made["person_id"]
    assert "packages" not in data
    assert "signed_by_sub" not in data


async def test_terminating_a_renewal_not_yet_begun_ends_the_contract_it_renews(
    world: World, clock: ManualClock
) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    made = await signed(world, p, person)
    clock.set_today(date(2027, 3, 1))
    successor = (await _renew(world, p, made)).json()
    ended = await world.client.post(
        f"{SIGNINGS}/{successor['id']}/terminate",
        json={"reason": "died", "ended_date": "2027-02-25"},
        headers={**world.staff(p.inst), **if_match(successor)},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"
    assert ended.json()["in_force"] is False
    renewed = (await world.client.get(f"{SIGNINGS}/{made['id']}", headers=world.staff(p.inst))).json()
    assert renewed["status"] == "renewed"
    assert renewed["ended_date"] == "2027-02-25"
    assert renewed["in_force"] is False


async def test_transfer_while_a_renewal_has_not_begun_ends_both(world: World, clock: ManualClock) -> None:
    old_practice = await practice(world)
    new_practice = await practice(world)
    number = id_number(HULI, birth=date(1947, 2, 3))
    person = await world.person(old_practice.inst, id_number=number)
    made = await signed(world, old_practice, person)
    clock.set_today(date(2027, 3, 1))
    successor = (await _renew(world, old_practice, made)).json()
    await _serve(world, new_practice, number)
    body = {
        "person_id": person["id"],
        "team_id": new_practice.team["id"],
        "package_ids": [new_practice.basic["id"]],
    }
    moved = await world.client.post(
        f"{SIGNINGS}/transfers", json=body, headers=world.staff(new_practice.inst)
    )
    assert moved.status_code == 201, moved.text
    assert moved.json()["start_date"] == "2027-03-01"
    assert moved.json()["previous_signing_id"] == successor["id"]
    staff = world.staff(old_practice.inst)
    first = (await world.client.get(f"{SIGNINGS}/{made['id']}", headers=staff)).json()
    second = (await world.client.get(f"{SIGNINGS}/{successor['id']}", headers=staff)).json()
    assert (first["status"], first["ended_date"], first["in_force"]) == ("transferred", "2027-03-01", True)
    assert (second["status"], second["ended_date"], second["in_force"]) == (
        "transferred",
        "2027-03-01",
        False,
    )
