"""家庭医生团队: the composition rule (at least one 全科医生, who leads), members checked against the
registry (exists, active, of the institution, a kind that may hold the role), primary-care institutions
only, member changes and stopping a team."""

from __future__ import annotations

import uuid

from libs.common.auth import Role
from tests.residents.signings.flows import TEAMS, if_match, practice, resident, signed, team
from tests.residents.world import HULI, SIMING, World


async def test_team_of_a_general_practitioner_and_a_nurse_is_led_by_the_doctor_and_lists_the_missing_roles(
    world: World,
) -> None:
    inst = await world.primary_care()
    doctor = await world.practitioner(inst, kind="doctor")
    nurse = await world.practitioner(inst, kind="nurse")
    made = await team(
        world, inst, [(nurse, "health_manager"), (doctor, "general_practitioner")], name="一团队"
    )
    assert made["leader_practitioner_id"] == str(doctor)
    assert made["institution_id"] == str(inst.id)
    assert made["region_code"] == HULI
    assert {m["role"] for m in made["members"]} == {"general_practitioner", "health_manager"}
    assert made["missing_roles"] == ["specialist", "village_doctor", "population_manager"]
    assert made["missing_role_labels"] == ["专科医生", "乡村医生", "人口管理员"]
    assert made["complete"] is False


async def test_full_three_doctors_two_staff_team_is_complete(world: World) -> None:
    inst = await world.primary_care(category="township_health_center")
    members = [
        (await world.practitioner(inst, kind="doctor"), "general_practitioner"),
        (await world.practitioner(inst, kind="doctor"), "specialist"),
        (await world.practitioner(inst, kind="doctor"), "village_doctor"),
        (await world.practitioner(inst, kind="nurse"), "health_manager"),
        (await world.practitioner(inst, kind="carer"), "population_manager"),
    ]
    made = await team(world, inst, members)
    assert made["complete"] is True
    assert made["missing_roles"] == []


async def test_team_without_a_general_practitioner_is_refused(world: World) -> None:
    inst = await world.primary_care()
    doctor = await world.practitioner(inst, kind="doctor")
    nurse = await world.practitioner(inst, kind="nurse")
    response = await world.client.post(
        TEAMS,
        json={
            "name": "无全科",
            "members": [
                {"practitioner_id": str(doctor), "role": "specialist"},
                {"practitioner_id": str(nurse), "role": "health_manager"},
            ],
        },
        headers=world.admin(inst),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "team_needs_general_practitioner"


async def test_role_needs_a_qualifying_practitioner_kind(world: World) -> None:
    inst = await world.primary_care()
    doctor = await world.practitioner(inst, kind="doctor")
    nurse = await world.practitioner(inst, kind="nurse")
    carer = await world.practitioner(inst, kind="carer")
    for practitioner, role in (
        (nurse, "general_practitioner"),
        (nurse, "specialist"),
        (carer, "health_manager"),
    ):
        response = await world.client.post(
            TEAMS,
            json={
                "name": f"团队{uuid.uuid4().hex[:4]}",
                "members": [
                    {"practitioner_id": str(doctor), "role": "general_practitioner"},
                    {"practitioner_id": str(practitioner), "role": role},
                ],
            },
            headers=world.admin(inst),
        )
        assert response.status_code == 422, (role, response.text)
        problem = response.json()
        assert problem["code"] == "role_not_qualified"
        assert problem["errors"][0]["field"] == "body.members.1.practitioner_id"


async def test_members_must_be_active_practitioners_of_the_institution(world: World) -> None:
    inst = await world.primary_care()
    other = await world.primary_care()
    doctor = await world.practitioner(inst, kind="doctor")
    stranger = await world.practitioner(other, kind="doctor")
    retired = await world.practitioner(inst, kind="doctor")
    deactivated = await world.registry.post(
        f"/api/v1/registry/practitioners/{retired}/deactivate",
        headers={**world.tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert deactivated.status_code == 200, deactivated.text
    cases = [
        (stranger, "practitioner_not_of_institution"),
        (uuid.uuid4(), "practitioner_not_found"),
        (retired, "practitioner_inactive"),
    ]
    for practitioner, code in cases:
        response = await world.client.post(
            TEAMS,
            json={
                "name": f"团队{uuid.uuid4().hex[:4]}",
                "members": [
                    {"practitioner_id": str(doctor), "role": "general_practitioner"},
                    {"practitioner_id": str(practitioner), "role": "population_manager"},
                ],
            },
            headers=world.admin(inst),
        )
        assert response.status_code == 422, (code, response.text)
        assert response.json()["code"] == code


async def test_only_a_primary_care_institution_has_teams(world: World) -> None:
    hospital = await world.institution(category="hospital")
    doctor = await world.practitioner(hospital, kind="doctor")
    response = await world.client.post(
        TEAMS,
        json={
            "name": "医院团队",
            "members": [{"practitioner_id": str(doctor), "role": "general_practitioner"}],
        },
        headers=world.admin(hospital),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not_primary_care_institution"


async def test_officials_read_but_do_not_form_teams(world: World) -> None:
    p = await practice(world)
    county = await world.client.get(TEAMS, headers=world.county(HULI))
    assert str(p.team["id"]) in {t["id"] for t in county.json()["items"]}
    other_county = await world.client.get(f"{TEAMS}/{p.team['id']}", headers=world.county(SIMING))
    assert other_county.status_code == 404
    assert other_county.json()["code"] == "team_not_found"
    refused = await world.client.post(
        TEAMS,
        json={"name": "x", "members": [{"practitioner_id": str(p.doctor), "role": "general_practitioner"}]},
        headers=world.county(HULI),
    )
    assert refused.status_code == 403


async def test_leader_must_be_a_general_practitioner_of_the_team(world: World) -> None:
    inst = await world.primary_care()
    doctor = await world.practitioner(inst, kind="doctor")
    nurse = await world.practitioner(inst, kind="nurse")
    response = await world.client.post(
        TEAMS,
        json={
            "name": "团队长错",
            "leader_practitioner_id": str(nurse),
            "members": [
                {"practitioner_id": str(doctor), "role": "general_practitioner"},
                {"practitioner_id": str(nurse), "role": "health_manager"},
            ],
        },
        headers=world.admin(inst),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "leader_not_general_practitioner"


async def test_same_practitioner_twice_and_same_team_name_are_refused(world: World) -> None:
    inst = await world.primary_care()
    doctor = await world.practitioner(inst, kind="doctor")
    twice = await world.client.post(
        TEAMS,
        json={
            "name": "重复",
            "members": [
                {"practitioner_id": str(doctor), "role": "general_practitioner"},
                {"practitioner_id": str(doctor), "role": "specialist"},
            ],
        },
        headers=world.admin(inst),
    )
    assert twice.status_code == 422
    assert twice.json()["code"] == "duplicate_member"
    await team(world, inst, [(doctor, "general_practitioner")], name="同名团队")
    again = await world.client.post(
        TEAMS,
        json={
            "name": "同名团队",
            "members": [{"practitioner_id": str(doctor), "role": "general_practitioner"}],
        },
        headers=world.admin(inst),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "team_name_exists"


async def test_members_join_and_leave_but_the_leader_stays(world: World) -> None:
    p = await practice(world)
    admin = world.admin(p.inst)
    specialist = await world.practitioner(p.inst, kind="doctor")
    no_version = await world.client.post(
        f"{TEAMS}/{p.team['id']}/members",
        json={"practitioner_id": str(specialist), "role": "specialist"},
        headers=admin,
    )
    assert no_version.status_code == 428
    added = await world.client.post(
        f"{TEAMS}/{p.team['id']}/members",
        json={"practitioner_id": str(specialist), "role": "specialist"},
        headers={**admin, **if_match(p.team)},
    )
    assert added.status_code == 200, added.text
    assert "specialist" not in added.json()["missing_roles"]
    assert added.json()["version"] == p.team["version"] + 1
    stale = await world.client.post(
        f"{TEAMS}/{p.team['id']}/members",
        json={"practitioner_id": str(specialist), "role": "specialist"},
        headers={**admin, **if_match(p.team)},
    )
    assert stale.status_code == 412
    twice = await world.client.post(
        f"{TEAMS}/{p.team['id']}/members",
        json={"practitioner_id": str(specialist), "role": "specialist"},
        headers={**admin, **if_match(added.json())},
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "team_member_exists"
    leader = await world.client.delete(
        f"{TEAMS}/{p.team['id']}/members/{p.doctor}", headers={**admin, **if_match(added.json())}
    )
    assert leader.status_code == 409
    assert leader.json()["code"] == "leader_cannot_leave"
    removed = await world.client.delete(
        f"{TEAMS}/{p.team['id']}/members/{specialist}", headers={**admin, **if_match(added.json())}
    )
    assert removed.status_code == 200, removed.text
    assert str(specialist) not in {m["practitioner_id"] for m in removed.json()["members"]}
    gone = await world.client.delete(
        f"{TEAMS}/{p.team['id']}/members/{specialist}", headers={**admin, **if_match(removed.json())}
    )
    assert gone.status_code == 404
    assert gone.json()["code"] == "team_member_not_found"


async def test_leader_changes_to_another_general_practitioner(world: World) -> None:
    p = await practice(world)
    admin = world.admin(p.inst)
    second = await world.practitioner(p.inst, kind="doctor")
    added = await world.client.post(
        f"{TEAMS}/{p.team['id']}/members",
        json={"practitioner_id": str(second), "role": "general_practitioner"},
        headers={**admin, **if_match(p.team)},
    )
    to_nurse = await world.client.patch(
        f"{TEAMS}/{p.team['id']}",
        json={"leader_practitioner_id": str(p.nurse)},
        headers={**admin, **if_match(added.json())},
    )
    assert to_nurse.status_code == 422
    assert to_nurse.json()["code"] == "leader_not_general_practitioner"
    changed = await world.client.patch(
        f"{TEAMS}/{p.team['id']}",
        json={"leader_practitioner_id": str(second), "name": "改名团队"},
        headers={**admin, **if_match(added.json())},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["leader_practitioner_id"] == str(second)
    assert changed.json()["name"] == "改名团队"


async def test_a_team_with_contracts_in_force_cannot_be_stopped(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    await signed(world, p, person)
    admin = world.admin(p.inst)
    refused = await world.client.post(
        f"{TEAMS}/{p.team['id']}/deactivate", headers={**admin, **if_match(p.team)}
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "team_has_signings"
    assert refused.json()["extra"]["active_signings"] == 1
    empty = await practice(world)
    stopped = await world.client.post(
        f"{TEAMS}/{empty.team['id']}/deactivate", headers={**world.admin(empty.inst), **if_match(empty.team)}
    )
    assert stopped.status_code == 200
    assert stopped.json()["active"] is False


async def test_another_institutions_admin_neither_sees_nor_changes_the_team(world: World) -> None:
    p = await practice(world)
    other = await world.primary_care()
    seen = await world.client.get(f"{TEAMS}/{p.team['id']}", headers=world.admin(other))
    assert seen.status_code == 404
    changed = await world.client.patch(
        f"{TEAMS}/{p.team['id']}", json={"name": "抢"}, headers={**world.admin(other), **if_match(p.team)}
    )
    assert changed.status_code == 404
    assert changed.json()["code"] == "team_not_found"
