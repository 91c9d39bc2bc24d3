"""Applications: creating, editing while held, criteria computed from the registry, submission, freezing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from libs.common.auth import Role
from services.registry.institutions.models import InstitutionYearStat
from tests.registry.demonstration.flow import APPLICATIONS, INSTITUTION_TEXTS, Flow, YearStat, bed_days_for

# Exactly at every boundary: 5 years to the day, 65 % occupancy in both years, 65.01 % 失能/失智.
BOUNDARY_STATS = {
    2024: YearStat(100, bed_days_for(65, 100, 2024), 10000, 6600),
    2025: YearStat(100, bed_days_for(65, 100, 2025), 10000, 6501),
}


async def test_institution_admin_creates_a_draft_for_its_own_institution(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution(name="厦门弘爱养护院（测试）")
    created = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "institution"},
        headers=flow.institution_admin(institution),
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["etag"] == f'"{body["version"]}"'
    assert (body["state"], body["state_label"]) == ("draft", "填报中")
    assert body["applicant_name"] == "厦门弘爱养护院（测试）"
    assert (body["region_code"], body["city_code"], body["city_name"]) == ("350206", "350200", "厦门市")
    assert body["holder"] == {
        "level": "applicant",
        "name": "厦门弘爱养护院（测试）",
        "level_label": "申报单位",
    }
    assert body["allowed_actions"] == ["submit"]
    assert [i["item"] for i in body["self_assessment"]] == list(INSTITUTION_TEXTS)
    assert all(i["text"] is None for i in body["self_assessment"])


async def test_county_admin_applies_for_its_own_county(flow: Flow) -> None:
    batch = await flow.batch()
    body = await flow.apply_county(batch["id"], "350203")
    assert (body["kind"], body["kind_label"], body["applicant_name"]) == (
        "county",
        "示范县（市、区）",
        "思明区",
    )
    assert body["institution_id"] is None
    assert [i["label"] for i in body["self_assessment"]] == [  # the work plan's six criteria
        "党政重视，部门协同",
        "政策支持，推动有力",
        "固本强基，优化提升",
        "严格管理，强化监督",
        "完善支撑，加强保障",
        "群众认可，评价良好",
    ]


async def test_an_applicant_applies_once_per_batch(flow: Flow) -> None:
    batch = await flow.batch()
    await flow.apply_county(batch["id"])
    again = await flow.client.post(
        APPLICATIONS, json={"batch_id": batch["id"], "kind": "county"}, headers=flow.county()
    )
    assert again.status_code == 409
    assert again.json()["code"] == "demonstration_already_applied"


async def test_each_applicant_role_applies_only_for_its_own_kind(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution()
    as_county = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "county"},
        headers=flow.institution_admin(institution),
    )
    as_institution = await flow.client.post(
        APPLICATIONS, json={"batch_id": batch["id"], "kind": "institution"}, headers=flow.county()
    )
    assert (as_county.status_code, as_county.json()["code"]) == (403, "demonstration_wrong_applicant_role")
    assert (as_institution.status_code, as_institution.json()["code"]) == (
        403,
        "demonstration_wrong_applicant_role",
    )


async def test_an_institution_already_named_cannot_apply_again(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution(national_demonstration_year=2023)
    response = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "institution"},
        headers=flow.institution_admin(institution),
    )
    assert response.status_code == 409
    assert response.json()["code"] == "demonstration_institution_not_eligible"
    assert "2023" in response.json()["detail"]


async def test_a_self_assessment_item_of_the_other_kind_is_refused_naming_the_field(flow: Flow) -> None:
    batch = await flow.batch()
    response = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "county", "self_assessment": {"management": "制度健全"}},
        headers=flow.county(),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.self_assessment.management"


async def test_hard_criteria_exactly_at_every_boundary_pass(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution(
        medical_since=date(2021, 3, 31), elderly_since=date(2021, 3, 31), stats=BOUNDARY_STATS
    )
    application = await flow.apply_institution(batch["id"], institution)
    report = (
        await flow.client.get(f"{APPLICATIONS}/{application['id']}/criteria", headers=flow.province())
    ).json()
    by_code = {c["code"]: c for c in report["criteria"]}
    assert by_code["medical_operating_years"]["passed"] is True
    assert by_code["medical_operating_years"]["margin"] == "0"
    assert by_code["elderly_care_operating_years"]["passed"] is True
    assert (by_code["occupancy"]["passed"], by_code["occupancy"]["value"]) == (True, "65.00")
    assert [y["year"] for y in by_code["occupancy"]["years"]] == [2024, 2025]
    assert by_code["disabled_share"]["passed"] is True
    assert (by_code["disabled_share"]["value"], by_code["disabled_share"]["margin"]) == ("65.01", "0.01")
    assert report["failing"] == []
    assert report["can_submit"] is True
    assert report["frozen"] is False


async def test_a_failing_hard_criterion_shows_by_how_much_and_blocks_submission(flow: Flow) -> None:
    batch = await flow.batch()
    stats = {
        **BOUNDARY_STATS,
        2025: YearStat(100, bed_days_for(65, 100, 2025), 100, 65),
    }  # share exactly 65 %
    institution = await flow.institution(elderly_since=date(2021, 4, 1), stats=stats)
    application = await flow.apply_institution(batch["id"], institution)

    report = (
        await flow.client.get(f"{APPLICATIONS}/{application['id']}/criteria", headers=flow.province())
    ).json()
    assert report["failing"] == ["elderly_care_operating_years", "disabled_share"]
    assert report["can_submit"] is False

    refused = await flow.act(application["id"], "submit", flow.applicant(application))
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "demonstration_criteria_not_met"
    assert problem["extra"]["failing"] == ["elderly_care_operating_years", "disabled_share"]
    failed = {c["code"]: c for c in problem["extra"]["criteria"]}
    assert failed["elderly_care_operating_years"]["margin"] == "-1"
    assert (failed["disabled_share"]["value"], failed["disabled_share"]["margin"]) == ("65.00", "0.00")
    assert "养老服务开展年限" in problem["detail"]
    assert (await flow.get(application["id"]))["state"] == "draft"


async def test_occupancy_one_bed_day_below_65_percent_blocks_submission(flow: Flow) -> None:
    batch = await flow.batch()
    stats = {**BOUNDARY_STATS, 2024: YearStat(100, bed_days_for(65, 100, 2024) - 1, 10000, 7000)}
    application = await flow.apply_institution(batch["id"], await flow.institution(stats=stats))
    refused = await flow.act(application["id"], "submit", flow.applicant(application))
    assert refused.status_code == 422
    occupancy = refused.json()["extra"]["criteria"][0]
    assert occupancy["code"] == "occupancy"
    assert occupancy["years"][0] == {"year": 2024, "value": "64.99", "margin": "-0.01", "passed": False}


async def test_an_incomplete_self_assessment_blocks_submission(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_institution(
        batch["id"], await flow.institution(), self_assessment={"management": "制度健全"}
    )
    refused = await flow.act(application["id"], "submit", flow.applicant(application))
    assert refused.status_code == 422
    assert "self_assessment.facilities" in refused.json()["extra"]["failing"]
    assert refused.json()["extra"]["missing_items"][0] == "facilities"


async def test_criteria_follow_the_registry_until_submission_then_stay_frozen(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution()
    application = await flow.apply_institution(batch["id"], institution)
    criteria_url = f"{APPLICATIONS}/{application['id']}/criteria"

    async def set_2025_occupancy(pct: int) -> None:
        await flow.db.execute(
            update(InstitutionYearStat)
            .where(InstitutionYearStat.institution_id == institution, InstitutionYearStat.year == 2025)
            .values(occupied_bed_days=bed_days_for(pct, 100, 2025))
        )
        await flow.db.commit()

    await set_2025_occupancy(60)
    live = (await flow.client.get(criteria_url, headers=flow.province())).json()
    assert live["failing"] == ["occupancy"]

    await set_2025_occupancy(70)
    submitted = await flow.step(application, "submit")
    assert submitted["submitted_date"] == "2026-04-15"
    frozen = submitted["frozen_figures"]
    assert frozen["operating_cutoff_date"] == "2026-03-31"
    assert [s["occupied_bed_days"] for s in frozen["registry"]["year_stats"]] == [29280, 25550]

    await set_2025_occupancy(50)  # the registry changes after submission: the application does not
    report = (await flow.client.get(criteria_url, headers=flow.province())).json()
    assert report["frozen"] is True
    assert report["can_submit"] is False
    assert report["evaluated_on"] == "2026-04-15"
    assert {c["code"]: c["value"] for c in report["criteria"]}["occupancy"] == "70.00"
    assert (await flow.get(application["id"]))["frozen_figures"] == frozen


async def test_a_county_application_freezes_the_countys_registry_figures(flow: Flow) -> None:
    batch = await flow.batch()
    await flow.institution(region="350205")
    await flow.institution(region="350205")
    application = await flow.apply_county(batch["id"], "350205")
    submitted = await flow.step(application, "submit")
    registry = submitted["frozen_figures"]["registry"]
    assert registry["integrated_institutions"] >= 2
    assert registry["beds_integrated"] >= 200


async def test_the_applicant_edits_its_draft_with_if_match(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    url = f"{APPLICATIONS}/{application['id']}"
    change = {"self_assessment": {"policy": "新修订的政策文本", "support": None}, "contact_name": "王科长"}

    missing = await flow.client.patch(url, json=change, headers=flow.county())
    stale = await flow.client.patch(url, json=change, headers={**flow.county(), "If-Match": '"999"'})
    done = await flow.client.patch(
        url, json=change, headers={**flow.county(), "If-Match": f'"{application["version"]}"'}
    )
    assert (missing.status_code, stale.status_code, done.status_code) == (428, 412, 200)
    body = done.json()
    texts = {i["item"]: i["text"] for i in body["self_assessment"]}
    assert texts["policy"] == "新修订的政策文本"
    assert texts["support"] is None
    assert body["contact_name"] == "王科长"
    assert body["version"] > application["version"]


async def test_the_applicant_cannot_edit_once_submitted_and_is_told_who_holds_it(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.step(
        await flow.apply_institution(batch["id"], await flow.institution()), "submit"
    )
    response = await flow.client.patch(
        f"{APPLICATIONS}/{application['id']}",
        json={"contact_name": "张三"},
        headers={**flow.applicant(application), "If-Match": f'"{application["version"]}"'},
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "demonstration_application_locked"
    assert problem["extra"]["holder"] == {
        "level": "county",
        "name": "湖里区卫生健康局",
        "level_label": "县级卫生健康部门",
    }
    assert "湖里区卫生健康局" in problem["detail"]


async def test_a_county_cannot_edit_its_application_once_at_the_city(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.step(await flow.apply_county(batch["id"]), "submit")
    response = await flow.client.patch(
        f"{APPLICATIONS}/{application['id']}",
        json={"contact_name": "张三"},
        headers={**flow.county(), "If-Match": f'"{application["version"]}"'},
    )
    assert response.status_code == 409
    assert response.json()["extra"]["holder"]["name"] == "厦门市卫生健康委员会"


async def test_a_reviewer_never_edits_the_applicants_material(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_institution(batch["id"], await flow.institution())
    response = await flow.client.patch(
        f"{APPLICATIONS}/{application['id']}",
        json={"contact_name": "县里改的"},
        headers={**flow.county(), "If-Match": f'"{application["version"]}"'},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "demonstration_not_applicant"


async def test_another_institution_of_the_county_cannot_touch_the_application(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_institution(batch["id"], await flow.institution())
    stranger = flow.tokens.headers(Role.institution_admin, "350206", institution_id=await flow.institution())
    seen = await flow.client.get(f"{APPLICATIONS}/{application['id']}", headers=stranger)
    submitted = await flow.act(application["id"], "submit", stranger)
    assert (seen.status_code, submitted.status_code) == (404, 404)


async def test_the_review_trail_says_who_did_what_when_and_why(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(
        await flow.apply_institution(batch["id"], await flow.institution()), "submitted"
    )
    await flow.act(application["id"], "return", flow.county(), {"reason": "自评报告缺少盖章页"})
    trail = (
        await flow.client.get(f"{APPLICATIONS}/{application['id']}/trail", headers=flow.province())
    ).json()
    assert [(e["action"], e["from_state"], e["to_state"]) for e in trail] == [
        ("create", None, "draft"),
        ("submit", "draft", "submitted"),
        ("return", "submitted", "draft"),
    ]
    returned = trail[-1]
    assert returned["actor_role"] == "county_admin"
    assert returned["actor_region_name"] == "湖里区"
    assert returned["reason"] == "自评报告缺少盖章页"
    assert returned["business_date"] == "2026-04-15"
    assert returned["action_label"] == "退回"
