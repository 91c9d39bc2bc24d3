"""The 示范 demo seed: batch 1 (2023) named as seed 003 reports it, batch 2 with its provincial review open
on the day the seed runs (the province has two county applications to review) and applications at several
stages; idempotent."""

from __future__ import annotations

from fastapi import FastAPI

from demo import demo_id
from demo.demonstration import BATCH_NAME, FIRST_BATCH_NAME, seed_session
from demo.registry import seed_session as seed_registry
from libs.common.clock import today_in_china
from tests.registry.demonstration.flow import APPLICATIONS, BATCHES, Flow


async def test_the_seed_writes_batch_two_once(flow: Flow, registry_app: FastAPI) -> None:
    settings = registry_app.state.settings
    assert await seed_session(flow.db, settings) is True
    await flow.db.commit()
    assert await seed_session(flow.db, settings) is False

    batch_id = demo_id("demonstration_batch", BATCH_NAME)
    listed = await flow.client.get(
        APPLICATIONS, params={"batch_id": str(batch_id), "kind": "county"}, headers=flow.province()
    )
    counties = {c["applicant_name"]: c for c in listed.json()["items"]}
    # both recommended by their cities, waiting for the province, whose review stage is open today
    assert {name: c["state"] for name, c in counties.items()} == {
        "湖里区": "city_recommended",
        "南安市": "city_recommended",
    }
    huli = counties["湖里区"]
    trail = await flow.client.get(f"{APPLICATIONS}/{huli['id']}/trail", headers=flow.province())
    assert [e["action"] for e in trail.json()] == ["create", "submit", "city-recommend"]
    batch = (await flow.client.get(f"{BATCHES}/{batch_id}", headers=flow.province())).json()
    review = batch["stages"]["provincial_review"]
    today = today_in_china().isoformat()
    assert review["start_date"] <= today <= review["end_date"], review


# seed 003 (四、开展医养结合示范县（市、区）和示范机构创建), verbatim: the first batch, named in 2023
FIRST_BATCH_COUNTIES = "漳州市芗城区、泉州市晋江市、龙岩市长汀县"
FIRST_BATCH_INSTITUTIONS = "福州市社会福利院、厦门市莲花爱心护理院"
FIRST_BATCH_YEAR = 2023


async def test_the_demo_has_the_first_batch_named_and_the_second_under_way(
    flow: Flow, registry_app: FastAPI
) -> None:
    await seed_registry(flow.db, registry_app.state.cipher)
    await flow.db.flush()
    assert await seed_session(flow.db, registry_app.state.settings) is True
    await flow.db.commit()

    first = demo_id("demonstration_batch", FIRST_BATCH_NAME)
    named = await flow.client.get(
        f"{APPLICATIONS}/named", params={"batch_id": str(first), "limit": 50}, headers=flow.province()
    )
    assert named.status_code == 200, named.text
    titled = {
        (
            item["kind"],
            item["applicant_name"]
            if item["kind"] == "institution"
            else item["city_name"] + item["applicant_name"],
        )
        for item in named.json()["items"]
    }
    assert titled == {("county", name) for name in FIRST_BATCH_COUNTIES.split("、")} | {
        ("institution", name) for name in FIRST_BATCH_INSTITUTIONS.split("、")
    }
    assert {item["named_date"][:4] for item in named.json()["items"]} == {str(FIRST_BATCH_YEAR)}
    listed = await flow.client.get(
        APPLICATIONS, params={"batch_id": str(first), "limit": 50}, headers=flow.province()
    )
    assert {a["state"] for a in listed.json()["items"]} == {"named"}
    assert len(listed.json()["items"]) == 5

    # a first-batch title is a national one: it marks the institution's national year, not the provincial
    for item in named.json()["items"]:
        if item["kind"] != "institution":
            continue
        criteria = await flow.client.get(
            f"{APPLICATIONS}/{item['application_id']}/criteria", headers=flow.province()
        )
        by_code = {c["code"]: c for c in criteria.json()["criteria"]}
        assert by_code["medical_operating_years"]["passed"] is True, (item["applicant_name"], by_code)
        assert criteria.json()["frozen"] is True
        institution = await flow.client.get(
            f"/api/v1/registry/institutions/{item['institution_id']}", headers=flow.province()
        )
        assert institution.json()["national_demonstration_year"] == FIRST_BATCH_YEAR

    second = demo_id("demonstration_batch", BATCH_NAME)
    applications = await flow.client.get(
        APPLICATIONS, params={"batch_id": str(second), "limit": 50}, headers=flow.province()
    )
    states = {a["applicant_name"]: a["state"] for a in applications.json()["items"]}
    assert len(set(states.values())) >= 3, states
    assert not set(states) & set(FIRST_BATCH_INSTITUTIONS.split("、")), states  # titled: they do not apply
