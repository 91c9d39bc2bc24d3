"""The review ladder: every action from every state by every role; returns, locks, deadlines, naming."""

from __future__ import annotations

from typing import Any

import pytest

from libs.common.auth import Role
from tests.registry.demonstration.flow import (
    APPLICATIONS,
    ON_APPLICATION,
    ON_CITY,
    ON_NAMING,
    ON_NATIONAL,
    ON_PROVINCE,
    Flow,
    body_for,
)

ACTIONS = [
    "submit",
    "county-recommend",
    "city-recommend",
    "province-approve",
    "send-to-nation",
    "national-result",
    "name",
    "reassess",
    "revoke",
    "return",
    "decline",
]
P, C, K, INST = Role.province_admin, Role.city_admin, Role.county_admin, Role.institution_admin
# who holds the permission behind each endpoint (the route's dependency answers 403 to the rest)
PERMITTED = {
    "submit": {INST, K},
    "county-recommend": {K},
    "city-recommend": {C},
    "province-approve": {P},
    "send-to-nation": {P},
    "national-result": {P},
    "name": {P},
    "reassess": {P},
    "revoke": {P},
    "return": {K, C, P},
    "decline": {K, C, P},
}
# the specification: from each state, which action by which role leads where
PROVINCE_HELD_RETURN = {"institution": "county_recommended", "county": "submitted"}
LEGAL: dict[tuple[str, str], dict[str, tuple[Role, str]]] = {
    ("institution", "draft"): {"submit": (INST, "submitted")},
    ("county", "draft"): {"submit": (K, "submitted")},
    ("institution", "submitted"): {
        "county-recommend": (K, "county_recommended"),
        "return": (K, "draft"),
        "decline": (K, "declined"),
    },
    ("county", "submitted"): {
        "city-recommend": (C, "city_recommended"),
        "return": (C, "draft"),
        "decline": (C, "declined"),
    },
    ("institution", "county_recommended"): {
        "city-recommend": (C, "city_recommended"),
        "return": (C, "submitted"),
        "decline": (C, "declined"),
    },
}
for _kind in ("institution", "county"):
    LEGAL[(_kind, "city_recommended")] = {
        "province-approve": (P, "province_approved"),
        "return": (P, PROVINCE_HELD_RETURN[_kind]),
        "decline": (P, "declined"),
    }
    LEGAL[(_kind, "province_approved")] = {
        "send-to-nation": (P, "sent_to_nation"),
        "return": (P, PROVINCE_HELD_RETURN[_kind]),
        "decline": (P, "declined"),
    }
    LEGAL[(_kind, "sent_to_nation")] = {"national-result": (P, "national_candidate")}
    LEGAL[(_kind, "national_candidate")] = {"national-result": (P, "named"), "name": (P, "named")}
    LEGAL[(_kind, "named")] = {"reassess": (P, "named"), "revoke": (P, "revoked")}
    for _closed in ("not_named", "declined", "revoked"):
        LEGAL[(_kind, _closed)] = {}

RANK = {"applicant": 0, "county": 1, "city": 2, "province": 3, "nation": 4}


def holder(kind: str, state: str) -> str | None:
    if state == "draft":
        return "applicant"
    if state == "submitted":
        return "county" if kind == "institution" else "city"
    if state == "county_recommended":
        return "city"
    if state in ("city_recommended", "province_approved", "named"):
        return "province"
    if state in ("sent_to_nation", "national_candidate"):
        return "nation"
    return None


def level_of(role: Role, kind: str) -> str:
    return {INST: "applicant", K: "applicant" if kind == "county" else "county", C: "city", P: "province"}[
        role
    ]


CASES = [key for key in LEGAL]


def legal_body(kind_state: tuple[str, str], action: str) -> dict[str, Any] | None:
    if action == "national-result" and kind_state[1] == "national_candidate":
        return body_for(action, result="named", result_date="2026-10-20", document_no="国卫老龄函〔2026〕1号")
    return body_for(action)


DAYS = {
    "submit": ON_APPLICATION,
    "county-recommend": ON_APPLICATION,
    "city-recommend": ON_CITY,
    "province-approve": ON_PROVINCE,
    "send-to-nation": ON_PROVINCE,
    "national-result": ON_NAMING,
    "name": ON_NAMING,
}


@pytest.mark.parametrize(("kind", "state"), CASES, ids=[f"{k}-{s}" for k, s in CASES])
async def test_every_action_by_every_role(flow: Flow, kind: str, state: str) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.new_application(batch["id"], kind), state)
    etag = f'"{application["version"]}"'
    legal = LEGAL[(kind, state)]
    seen: dict[tuple[str, str], tuple[int, str]] = {}
    for action in ACTIONS:
        # Roles without the endpoint's permission are refused (403) before the application is even loaded,
        # whatever its state: test_permissions walks those cells; here one of them stands for all.
        for role in sorted(PERMITTED[action] | {Role.institution_staff}, key=lambda r: r.value):
            if action in legal and legal[action][0] is role:
                continue
            response = await flow.act(
                application["id"], action, flow.as_role(role, application), body_for(action), if_match=etag
            )
            seen[(action, role.value)] = (response.status_code, response.json().get("code", ""))
            expected: tuple[int, str]
            if role not in PERMITTED[action]:
                expected = (403, "permission_denied")
            elif role is INST and kind == "county":
                expected = (404, "demonstration_application_not_found")
            elif action == "submit" and level_of(role, kind) != "applicant":
                expected = (403, "demonstration_not_applicant")
            else:
                holding = holder(kind, state)
                above = holding in RANK and RANK[holding] > RANK[level_of(role, kind)]
                expected = (409, "demonstration_application_locked" if above else "illegal_transition")
            assert seen[(action, role.value)] == expected, f"{action} by {role.value}: {response.text}"
    assert (await flow.get(application["id"]))["version"] == application["version"]  # nothing moved

    for action, (role, target) in legal.items():
        fresh_batch = await flow.batch()  # one applicant per batch, one recommendation per city per batch
        fresh = await flow.drive(await flow.new_application(fresh_batch["id"], kind), state)
        if action == "province-approve":
            assert (await flow.province_review(fresh["id"])).status_code == 200
        moved = await flow.act(
            fresh["id"],
            action,
            flow.as_role(role, fresh),
            legal_body((kind, state), action),
            on=DAYS.get(action),
        )
        assert moved.status_code == 200, f"{action} by {role.value}: {moved.text}"
        assert moved.json()["state"] == target


# ------------------------------------------------------------------------------------------- returns


async def test_a_returned_application_goes_back_one_level_with_the_reason(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(
        await flow.apply_institution(batch["id"], await flow.institution()), "county_recommended"
    )
    returned = await flow.act(
        application["id"], "return", flow.city(), {"reason": "请补充近两年床位使用台账"}, on=ON_CITY
    )
    assert returned.status_code == 200
    body = returned.json()
    assert (body["state"], body["holder"]["level"]) == ("submitted", "county")
    assert (body["returned_reason"], body["returned_date"]) == ("请补充近两年床位使用台账", "2026-05-15")
    assert body["county_recommended_date"] is None
    again = await flow.act(
        application["id"], "county-recommend", flow.county(), {"opinion": "已补充，再次推荐"}
    )
    assert again.status_code == 200, again.text
    assert again.json()["returned_reason"] is None


async def test_a_county_return_sends_the_institution_back_to_editing_and_thaws_its_figures(
    flow: Flow,
) -> None:
    batch = await flow.batch()
    application = await flow.drive(
        await flow.apply_institution(batch["id"], await flow.institution()), "submitted"
    )
    returned = await flow.act(application["id"], "return", flow.county(), {"reason": "满意度调查表未盖章"})
    body = returned.json()
    assert (body["state"], body["frozen_figures"], body["submitted_date"]) == ("draft", None, None)
    edit = await flow.client.patch(
        f"{APPLICATIONS}/{application['id']}",
        json={"declared_satisfaction_pct": 96.0},
        headers={**flow.applicant(application), "If-Match": f'"{body["version"]}"'},
    )
    assert edit.status_code == 200


async def test_a_province_return_frees_the_citys_recommendation(flow: Flow) -> None:
    batch = await flow.batch()
    first = await flow.drive(await flow.apply_county(batch["id"], "350206"), "city_recommended")
    second = await flow.drive(await flow.apply_county(batch["id"], "350203"), "submitted")
    taken = await flow.act(second["id"], "city-recommend", flow.city(), {"opinion": "推荐"}, on=ON_CITY)
    assert taken.status_code == 409
    returned = await flow.act(
        first["id"], "return", flow.province(), {"reason": "请市里重新研究"}, on=ON_PROVINCE
    )
    assert returned.json()["state"] == "submitted"
    assert returned.json()["city_recommended_date"] is None
    # the province returned it within its own stage: the city may act again until that stage ends
    now = await flow.act(
        second["id"], "city-recommend", flow.city(), {"opinion": "改为推荐思明区"}, on=ON_PROVINCE
    )
    assert now.status_code == 200, now.text


# ---------------------------------------------------------------------------------- one per city


async def test_a_city_recommends_one_county_or_one_institution_per_batch(flow: Flow) -> None:
    batch = await flow.batch()
    county = await flow.drive(await flow.apply_county(batch["id"], "350206"), "city_recommended")
    institution = await flow.drive(
        await flow.apply_institution(batch["id"], await flow.institution(region="350203"), region="350203"),
        "county_recommended",
    )
    second = await flow.act(institution["id"], "city-recommend", flow.city(), {"opinion": "推荐"}, on=ON_CITY)
    assert second.status_code == 409
    problem = second.json()
    assert problem["code"] == "demonstration_city_recommendation_taken"
    assert problem["extra"]["recommended_application_id"] == county["id"]
    assert "湖里区" in problem["detail"]
    assert (await flow.get(institution["id"]))["state"] == "county_recommended"


async def test_another_city_and_another_batch_are_not_affected(flow: Flow) -> None:
    batch = await flow.batch()
    await flow.drive(await flow.apply_county(batch["id"], "350206"), "city_recommended")
    fuzhou = await flow.drive(await flow.apply_county(batch["id"], "350104"), "city_recommended")
    other_batch = await flow.batch()
    xiamen_again = await flow.drive(await flow.apply_county(other_batch["id"], "350203"), "city_recommended")
    assert fuzhou["city_code"] == "350100"
    assert xiamen_again["state"] == "city_recommended"


async def test_pingtan_is_a_city_of_its_own(flow: Flow) -> None:
    batch = await flow.batch()
    await flow.drive(await flow.apply_county(batch["id"], "350104"), "city_recommended")  # 福州 used its slot
    pingtan = await flow.drive(await flow.apply_county(batch["id"], "350128"), "submitted")
    assert pingtan["city_code"] == "350128"
    assert pingtan["holder"]["name"] == "平潭综合实验区卫生健康主管部门"
    by_fuzhou = await flow.act(
        pingtan["id"], "city-recommend", flow.city("350100"), {"opinion": "推荐"}, on=ON_CITY
    )
    by_pingtan = await flow.act(pingtan["id"], "city-recommend", flow.city("350128"), {"opinion": "推荐"})
    assert by_fuzhou.status_code == 404  # 福州's scope excludes 平潭
    assert by_pingtan.status_code == 200, by_pingtan.text


# ---------------------------------------------------------------------------------- lower levels locked


async def test_once_the_city_has_passed_it_up_the_county_and_city_can_no_longer_act(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(
        await flow.apply_institution(batch["id"], await flow.institution()), "city_recommended"
    )
    by_county = await flow.act(application["id"], "return", flow.county(), {"reason": "县里想撤回"})
    by_city = await flow.act(application["id"], "decline", flow.city(), {"reason": "市里改主意"})
    for response in (by_county, by_city):
        assert response.status_code == 409
        assert response.json()["code"] == "demonstration_application_locked"
        assert response.json()["extra"]["holder"]["name"] == "福建省卫生健康委员会"


# ------------------------------------------------------------------------------------------ deadlines


async def test_a_late_submission_is_refused_with_the_deadline(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    late = await flow.act(application["id"], "submit", flow.county(), on=ON_CITY)
    assert late.status_code == 409
    problem = late.json()
    assert problem["code"] == "demonstration_deadline_passed"
    assert "2026-04-30" in problem["detail"]
    assert problem["extra"]["end_date"] == "2026-04-30"


async def test_the_last_day_of_the_stage_still_counts(flow: Flow) -> None:
    from datetime import date

    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    on_time = await flow.act(application["id"], "submit", flow.county(), on=date(2026, 4, 30))
    assert on_time.status_code == 200, on_time.text


async def test_submitting_before_the_application_stage_opens_is_refused(flow: Flow) -> None:
    from datetime import date

    batch = await flow.batch()
    # preparation: drafts may be written, not submitted
    application = await flow.apply_county(batch["id"], on=date(2026, 2, 1))
    early = await flow.act(application["id"], "submit", flow.county())
    assert (early.status_code, early.json()["code"]) == (409, "demonstration_stage_not_open")
    assert "2026-03-01" in early.json()["detail"]


async def test_creating_after_the_application_stage_is_refused(flow: Flow) -> None:
    batch = await flow.batch()
    flow.clock.today = ON_CITY
    late = await flow.client.post(
        APPLICATIONS, json={"batch_id": batch["id"], "kind": "county"}, headers=flow.county()
    )
    assert (late.status_code, late.json()["code"]) == (409, "demonstration_deadline_passed")


async def test_a_late_city_recommendation_is_refused(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "submitted")
    late = await flow.act(
        application["id"], "city-recommend", flow.city(), {"opinion": "推荐"}, on=ON_PROVINCE
    )
    assert late.status_code == 409
    assert "市级推荐阶段已于 2026-05-31 截止" in late.json()["detail"]


async def test_a_late_county_recommendation_is_refused(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(
        await flow.apply_institution(batch["id"], await flow.institution()), "submitted"
    )
    late = await flow.act(
        application["id"], "county-recommend", flow.county(), {"opinion": "推荐"}, on=ON_CITY
    )
    assert (late.status_code, late.json()["code"]) == (409, "demonstration_deadline_passed")


async def test_an_application_returned_by_the_city_may_be_resubmitted_during_the_city_stage(
    flow: Flow,
) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "submitted")
    await flow.act(application["id"], "return", flow.city(), {"reason": "补充材料"}, on=ON_CITY)
    resubmitted = await flow.act(application["id"], "submit", flow.county(), on=ON_CITY)
    assert resubmitted.status_code == 200, resubmitted.text
    too_late = await flow.drive(await flow.apply_county(batch["id"], "350203"), "draft")
    refused = await flow.act(too_late["id"], "submit", flow.county("350203"), on=ON_CITY)
    assert refused.status_code == 409


async def test_the_national_result_cannot_be_recorded_before_the_national_stage(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "sent_to_nation")
    early = await flow.act(application["id"], "national-result", flow.province(), body_for("national-result"))
    assert (early.status_code, early.json()["code"]) == (409, "demonstration_stage_not_open")


# ------------------------------------------------------------------------------------ province, nation


async def test_the_province_cannot_approve_without_a_complete_review(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "city_recommended")
    bare = await flow.act(
        application["id"], "province-approve", flow.province(), body_for("province-approve"), on=ON_PROVINCE
    )
    assert bare.status_code == 422
    assert bare.json()["code"] == "demonstration_review_incomplete"
    assert len(bare.json()["extra"]["missing"]) == 3

    reviewed = await flow.province_review(application["id"], document_review_passed=False)
    assert reviewed.status_code == 200
    still = await flow.act(
        application["id"], "province-approve", flow.province(), body_for("province-approve")
    )
    assert still.status_code == 422


async def test_the_province_review_records_documents_visit_and_scores(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "city_recommended")
    reviewed = await flow.province_review(application["id"])
    review = reviewed.json()["province_review"]
    assert review["site_visit_date"] == "2026-06-10"
    assert [s["expert_name"] for s in review["expert_scores"]] == ["王专家", "李专家"]
    assert review["average_score"] == 90.25
    approved = await flow.act(
        application["id"], "province-approve", flow.province(), body_for("province-approve")
    )
    assert approved.json()["province_review"]["decision_reasons"] == "材料齐全，现场核查属实，专家评分优秀"
    again = await flow.province_review(application["id"])
    assert again.status_code == 409  # decided: the review record is closed


async def test_the_province_sends_no_more_than_the_batch_quota(flow: Flow) -> None:
    batch = await flow.batch(county_quota=1)
    await flow.drive(await flow.apply_county(batch["id"], "350206"), "sent_to_nation")
    second = await flow.drive(await flow.apply_county(batch["id"], "350104"), "province_approved")
    over = await flow.act(second["id"], "send-to-nation", flow.province(), body_for("send-to-nation"))
    assert over.status_code == 409
    assert over.json()["code"] == "demonstration_quota_exhausted"


async def test_naming_marks_the_institution_in_the_registry_and_revoking_clears_it(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution()
    application = await flow.drive(await flow.apply_institution(batch["id"], institution), "named")
    assert application["named_date"] == "2026-10-20"
    assert application["next_reassessment_due_date"] == "2028-10-20"
    assert (await flow.institution_state(institution)).national_demonstration_year == 2026

    seen = await flow.client.get(f"/api/v1/registry/institutions/{institution}", headers=flow.county())
    assert seen.json()["national_demonstration_year"] == 2026

    revoked = await flow.act(application["id"], "revoke", flow.province(), {"reason": "发生重大安全责任事故"})
    assert revoked.json()["state"] == "revoked"
    # close_reason, as on home beds and referrals; closed_reason its old name until API 2.0.0
    assert revoked.json()["close_reason"] == revoked.json()["closed_reason"] == "发生重大安全责任事故"
    assert (await flow.institution_state(institution)).national_demonstration_year is None


async def test_a_national_result_of_named_names_directly(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution()
    application = await flow.drive(await flow.apply_institution(batch["id"], institution), "sent_to_nation")
    named = await flow.act(
        application["id"],
        "national-result",
        flow.province(),
        {"result": "named", "result_date": "2026-10-20", "document_no": "国卫老龄函〔2026〕9号"},
        on=ON_NAMING,
    )
    assert named.status_code == 200, named.text
    assert (named.json()["state"], named.json()["named_document_no"]) == ("named", "国卫老龄函〔2026〕9号")
    assert (await flow.institution_state(institution)).national_demonstration_year == 2026


async def test_naming_directly_is_refused_before_the_naming_stage(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "sent_to_nation")
    early = await flow.act(
        application["id"],
        "national-result",
        flow.province(),
        {"result": "named", "result_date": "2026-08-01", "document_no": "国卫老龄函〔2026〕9号"},
        on=ON_NATIONAL,
    )
    assert (early.status_code, early.json()["code"]) == (409, "demonstration_stage_not_open")


async def test_a_candidate_cannot_be_made_candidate_twice(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "national_candidate")
    again = await flow.act(application["id"], "national-result", flow.province(), body_for("national-result"))
    assert (again.status_code, again.json()["code"]) == (409, "illegal_transition")


async def test_not_named_needs_a_reason_and_closes_the_application(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "sent_to_nation")
    bare = await flow.act(
        application["id"],
        "national-result",
        flow.province(),
        {"result": "not_named", "result_date": "2026-08-01"},
        on=ON_NATIONAL,
    )
    assert bare.status_code == 422
    closed = await flow.drive(await flow.apply_county(batch["id"], "350104"), "not_named")
    assert (closed["close_reason"], closed["holder"]["level"]) == ("国家评估未通过", "closed")
    assert closed["closed_reason"] == closed["close_reason"]


async def test_a_passed_reassessment_moves_the_next_due_date_two_years_on(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.drive(await flow.apply_county(batch["id"]), "named")
    failed = await flow.act(
        application["id"],
        "reassess",
        flow.province(),
        {"assessed_date": "2028-09-01", "passed": False, "opinion": "整改后复核"},
    )
    assert failed.json()["next_reassessment_due_date"] == "2028-10-20"
    passed = await flow.act(
        application["id"],
        "reassess",
        flow.province(),
        {"assessed_date": "2028-10-01", "passed": True, "opinion": "复核合格"},
    )
    body = passed.json()
    assert (body["state"], body["next_reassessment_due_date"]) == ("named", "2030-10-01")
    assert [r["passed"] for r in body["reassessments"]] == [False, True]


async def test_named_demonstrations_are_listed_for_everyone(flow: Flow) -> None:
    batch = await flow.batch()
    named = await flow.drive(await flow.apply_county(batch["id"], "350104"), "named")
    await flow.drive(await flow.apply_county(batch["id"], "350206"), "sent_to_nation")
    listed = await flow.client.get(
        f"{APPLICATIONS}/named", params={"batch_id": batch["id"]}, headers=flow.county("350582")
    )
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(i["application_id"], i["applicant_name"], i["city_name"]) for i in items] == [
        (named["id"], "仓山区", "福州市")
    ]
    assert items[0]["named_document_no"] == "国卫老龄函〔2026〕88号"


async def test_transitions_need_if_match(flow: Flow) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    missing = await flow.client.post(f"{APPLICATIONS}/{application['id']}/submit", headers=flow.county())
    stale = await flow.act(application["id"], "submit", flow.county(), if_match='"0"')
    assert (missing.status_code, stale.status_code) == (428, 412)


async def test_a_replayed_transition_with_the_same_idempotency_key_answers_the_first_response(
    flow: Flow,
) -> None:
    batch = await flow.batch()
    application = await flow.apply_county(batch["id"])
    headers = {**flow.county(), "If-Match": f'"{application["version"]}"', "Idempotency-Key": "submit-huli-1"}
    url = f"{APPLICATIONS}/{application['id']}/submit"
    first = await flow.client.post(url, headers=headers)
    replay = await flow.client.post(url, headers=headers)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["version"] == first.json()["version"]
