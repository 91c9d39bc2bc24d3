"""Batches: the province opens them with quotas, seven stage windows and the rules they apply."""

from __future__ import annotations

from datetime import date

from tests.registry.demonstration.flow import BATCHES, STAGES, Flow


async def test_the_province_opens_a_batch_with_the_configured_rules(flow: Flow) -> None:
    batch = await flow.batch(name="第二批全国医养结合示范项目（2025—2026年）")
    assert (batch["county_quota"], batch["institution_quota"]) == (3, 2)
    assert batch["operating_cutoff_date"] == "2026-03-31"
    assert (
        batch["operating_years_min"],
        batch["occupancy_min_pct"],
        batch["disabled_share_min_pct"],
        batch["satisfaction_min_pct"],
    ) == (5, 65, 65, 95)
    assert batch["stages"]["city_recommendation"] == {"start_date": "2026-05-01", "end_date": "2026-05-31"}
    assert (batch["current_stage"], batch["current_stage_label"]) == ("application", "自评申报阶段")


async def test_a_batch_may_set_its_own_cutoff_and_thresholds(flow: Flow) -> None:
    batch = await flow.batch(operating_cutoff_date="2028-03-31", occupancy_min_pct=70)
    assert (batch["operating_cutoff_date"], batch["occupancy_min_pct"]) == ("2028-03-31", 70)


async def test_the_current_stage_follows_today(flow: Flow) -> None:
    batch = await flow.batch()
    flow.clock.today = date(2026, 10, 5)
    during_notice = (await flow.client.get(f"{BATCHES}/{batch['id']}", headers=flow.county())).json()
    flow.clock.today = date(2027, 3, 1)
    after = (await flow.client.get(f"{BATCHES}/{batch['id']}", headers=flow.county())).json()
    assert during_notice["current_stage_label"] == "公示阶段"
    assert after["current_stage"] is None


async def test_only_the_province_opens_batches(flow: Flow) -> None:
    response = await flow.client.post(BATCHES, json={}, headers=flow.city())
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


async def test_stages_out_of_order_are_refused(flow: Flow) -> None:
    stages = {k: {"start_date": s, "end_date": e} for k, (s, e) in STAGES.items()}
    stages["city_recommendation"] = {"start_date": "2026-02-01", "end_date": "2026-02-10"}
    response = await flow.client.post(
        BATCHES,
        json={"name": "乱序批次", "county_quota": 1, "institution_quota": 1, "stages": stages},
        headers=flow.province(),
    )
    assert response.status_code == 422
    assert "市级推荐阶段不能早于自评申报阶段" in response.text


async def test_a_stage_ending_before_it_starts_is_refused(flow: Flow) -> None:
    stages = {k: {"start_date": s, "end_date": e} for k, (s, e) in STAGES.items()}
    stages["naming"] = {"start_date": "2026-12-31", "end_date": "2026-10-16"}
    response = await flow.client.post(
        BATCHES,
        json={"name": "倒置批次", "county_quota": 1, "institution_quota": 1, "stages": stages},
        headers=flow.province(),
    )
    assert response.status_code == 422


async def test_batch_names_are_unique(flow: Flow) -> None:
    await flow.batch(name="第三批全国医养结合示范项目")
    stages = {k: {"start_date": s, "end_date": e} for k, (s, e) in STAGES.items()}
    again = await flow.client.post(
        BATCHES,
        json={
            "name": "第三批全国医养结合示范项目",
            "county_quota": 1,
            "institution_quota": 1,
            "stages": stages,
        },
        headers=flow.province(),
    )
    assert (again.status_code, again.json()["code"]) == (409, "demonstration_batch_name_taken")


async def test_the_province_changes_a_batch_with_if_match(flow: Flow) -> None:
    batch = await flow.batch()
    url = f"{BATCHES}/{batch['id']}"
    missing = await flow.client.patch(url, json={"county_quota": 4}, headers=flow.province())
    stale = await flow.client.patch(
        url, json={"county_quota": 4}, headers={**flow.province(), "If-Match": '"9"'}
    )
    done = await flow.client.patch(
        url, json={"county_quota": 4}, headers={**flow.province(), "If-Match": f'"{batch["version"]}"'}
    )
    assert (missing.status_code, stale.status_code, done.status_code) == (428, 412, 200)
    assert done.json()["county_quota"] == 4
    assert done.headers["etag"] == f'"{done.json()["version"]}"'


async def test_the_cutoff_is_frozen_once_an_application_is_submitted(flow: Flow) -> None:
    batch = await flow.batch()
    url = f"{BATCHES}/{batch['id']}"
    moved = await flow.client.patch(
        url,
        json={"operating_cutoff_date": "2026-06-30"},
        headers={**flow.province(), "If-Match": f'"{batch["version"]}"'},
    )
    assert moved.status_code == 200
    await flow.drive(await flow.apply_county(batch["id"]), "submitted")
    refused = await flow.client.patch(
        url,
        json={"operating_cutoff_date": "2026-03-31"},
        headers={**flow.province(), "If-Match": f'"{moved.json()["version"]}"'},
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "demonstration_batch_rules_frozen")


async def test_every_role_that_reads_sees_the_batches(flow: Flow) -> None:
    batch = await flow.batch()
    institution = await flow.institution()
    listed = await flow.client.get(
        BATCHES, params={"limit": 200}, headers=flow.institution_admin(institution)
    )
    assert batch["id"] in [b["id"] for b in listed.json()["items"]]
    missing = await flow.client.get(f"{BATCHES}/00000000-0000-0000-0000-000000000000", headers=flow.county())
    assert (missing.status_code, missing.json()["code"]) == (404, "demonstration_batch_not_found")
