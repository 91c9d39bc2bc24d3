"""动态管理 (seed 004, work plan 四(五)): a county or institution whose title was revoked may not apply
to create a demonstration again within 3 years (``demo_revoked_bar_years``, default 3). The rule's
reading: the bar runs from the revocation date to its third anniversary, so 2 years and 364 days after a
revocation is refused and 3 years to the day is allowed.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.registry.demonstration.flow import APPLICATIONS, INSTITUTION_TEXTS, Flow

REVOKED_ON = date(2027, 1, 10)  # flow.MOVE_DAYS["revoke"]
TWO_YEARS_364_DAYS = date(2030, 1, 9)
THREE_YEARS = date(2030, 1, 10)
LATER_STAGES = {
    "preparation": ("2029-10-01", "2029-12-31"),
    "application": ("2030-01-01", "2030-03-31"),
    "city_recommendation": ("2030-04-01", "2030-04-30"),
    "provincial_review": ("2030-05-01", "2030-05-31"),
    "national_assessment": ("2030-06-01", "2030-08-31"),
    "public_notice": ("2030-09-01", "2030-09-15"),
    "naming": ("2030-09-16", "2030-12-31"),
}


async def _later_batch(flow: Flow) -> dict[str, object]:
    return await flow.batch(
        stages={k: {"start_date": s, "end_date": e} for k, (s, e) in LATER_STAGES.items()},
        operating_cutoff_date="2031-03-31",
    )


@pytest.mark.parametrize("kind", ["county", "institution"])
async def test_a_revoked_title_bars_a_new_application_for_three_years(flow: Flow, kind: str) -> None:
    first = await flow.batch()
    institution_id = await flow.institution() if kind == "institution" else None
    if institution_id is None:
        application = await flow.apply_county(first["id"])
    else:
        application = await flow.apply_institution(first["id"], institution_id)
    revoked = await flow.drive(application, "revoked")
    assert revoked["closed_date"] == REVOKED_ON.isoformat()

    later = await _later_batch(flow)
    if institution_id is None:
        payload = {"batch_id": later["id"], "kind": "county", "self_assessment": {}}
        headers = flow.county()
    else:
        payload = {"batch_id": later["id"], "kind": "institution", "self_assessment": INSTITUTION_TEXTS}
        headers = flow.institution_admin(institution_id)

    flow.clock.today = TWO_YEARS_364_DAYS
    refused = await flow.client.post(APPLICATIONS, json=payload, headers=headers)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["code"] == "demonstration_revoked_recently"
    assert problem["extra"]["revoked_date"] == REVOKED_ON.isoformat()
    assert problem["extra"]["allowed_from"] == THREE_YEARS.isoformat()
    assert problem["extra"]["revoked_application_id"] == revoked["id"]

    flow.clock.today = THREE_YEARS
    allowed = await flow.client.post(APPLICATIONS, json=payload, headers=headers)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["state"] == "draft"


async def test_the_bar_is_the_revoked_applicant_s_only(flow: Flow) -> None:
    """Another county of the same city applies normally inside the three years."""
    first = await flow.batch()
    await flow.drive(await flow.apply_county(first["id"], "350206"), "revoked")
    later = await _later_batch(flow)
    flow.clock.today = TWO_YEARS_364_DAYS
    other = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": later["id"], "kind": "county"},
        headers=flow.county("350203"),
    )
    assert other.status_code == 201, other.text
