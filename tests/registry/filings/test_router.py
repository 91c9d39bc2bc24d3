from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.factories import FILINGS, INSTITUTIONS, create_institution, hospital_body

HULI, SIMING = "350206", "350203"
COMPLETE_DOCUMENTS = ["application_form", "premises_proof", "staff_qualifications", "rules"]


def filing_body(institution_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "institution_id": institution_id,
        "unit_kind": "infirmary",
        "unit_name": "湖里区测试护理院医务室",
        "person_in_charge": "王医生",
        "doctors": 1,
        "nurses": 2,
        "documents": COMPLETE_DOCUMENTS,
    }
    body.update(overrides)
    return body


def admin_of(tokens: Tokens, institution: dict[str, Any]) -> dict[str, str]:
    return tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(institution["id"]))


async def file_complete(
    client: httpx.AsyncClient, tokens: Tokens, institution: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        FILINGS, json=filing_body(institution["id"]), headers=admin_of(tokens, institution)
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def institution_of(client: httpx.AsyncClient, tokens: Tokens, institution_id: str) -> dict[str, Any]:
    response = await client.get(
        f"{INSTITUTIONS}/{institution_id}", headers=tokens.headers(Role.county_admin, HULI)
    )
    return dict(response.json())


async def test_complete_filing_is_accepted_at_once_and_gives_a_medical_unit(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    assert filing["state"] == "accepted"
    assert filing["state_label"] == "已备案"
    assert filing["ws218_kind_code"] == "D400"
    assert filing["filing_no"].startswith("YB350206")
    assert filing["allowed_actions"] == ["correct", "reject", "revoke"]
    assert (await institution_of(client, tokens, institution["id"]))["has_medical_unit"] is True


async def test_incomplete_filing_is_422_listing_what_is_missing_and_nothing_is_stored(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(client, tokens)
    response = await client.post(
        FILINGS,
        json=filing_body(institution["id"], documents=["application_form"], person_in_charge=None),
        headers=admin_of(tokens, institution),
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "filing_incomplete"
    assert "负责人" in body["detail"]
    assert "房屋产权证明或租赁合同" in body["detail"]
    listed = await client.get(
        FILINGS, params={"institution_id": institution["id"]}, headers=admin_of(tokens, institution)
    )
    assert listed.json()["items"] == []


async def test_draft_then_submit(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    headers = admin_of(tokens, institution)
    draft = await client.post(
        FILINGS,
        json=filing_body(institution["id"], documents=["application_form"], submit=False),
        headers=headers,
    )
    assert draft.status_code == 201
    assert draft.json()["state"] == "draft"
    url = f"{FILINGS}/{draft.json()['id']}"
    too_early = await client.post(f"{url}/submit", headers={**headers, "If-Match": '"1"'})
    assert too_early.status_code == 422
    edited = await client.patch(
        url, json={"documents": COMPLETE_DOCUMENTS}, headers={**headers, "If-Match": '"1"'}
    )
    assert edited.status_code == 200, edited.text
    submitted = await client.post(f"{url}/submit", headers={**headers, "If-Match": edited.headers["etag"]})
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "accepted"


async def test_transitions_need_if_match(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    response = await client.post(
        f"{FILINGS}/{filing['id']}/revoke",
        json={"reason": "核查不符"},
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert response.status_code == 428


async def test_county_revokes_and_the_medical_unit_goes(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    response = await client.post(
        f"{FILINGS}/{filing['id']}/revoke",
        json={"reason": "现场核查不符合备案条件"},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "revoked"
    assert response.json()["state_reason"] == "现场核查不符合备案条件"
    assert (await institution_of(client, tokens, institution["id"]))["has_medical_unit"] is False


async def test_revoking_one_of_two_accepted_filings_keeps_the_medical_unit(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(client, tokens)
    first = await file_complete(client, tokens, institution)
    await client.post(
        FILINGS,
        json=filing_body(institution["id"], unit_kind="nursing_station", unit_name="护理站"),
        headers=admin_of(tokens, institution),
    )
    await client.post(
        f"{FILINGS}/{first['id']}/revoke",
        json={"reason": "合并"},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert (await institution_of(client, tokens, institution["id"]))["has_medical_unit"] is True


async def test_reject_then_resubmit_with_corrections(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    url = f"{FILINGS}/{filing['id']}"
    rejected = await client.post(
        f"{url}/reject",
        json={"reason": "医师执业地点未变更"},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert rejected.json()["state"] == "rejected"
    assert rejected.json()["allowed_actions"] == ["resubmit"]
    resubmitted = await client.post(
        f"{url}/resubmit",
        json={"person_in_charge": "陈医生", "reason": "已变更执业地点"},
        headers={**admin_of(tokens, institution), "If-Match": rejected.headers["etag"]},
    )
    assert resubmitted.status_code == 200, resubmitted.text
    assert resubmitted.json()["state"] == "accepted"
    assert resubmitted.json()["revision"] == 2
    history = await client.get(f"{url}/history", headers=admin_of(tokens, institution))
    assert [(e["action"], e["to_state"]) for e in history.json()] == [
        ("submit", "accepted"),
        ("reject", "rejected"),
        ("resubmit", "accepted"),
    ]
    assert history.json()[2]["changes"]["person_in_charge"] == ["王医生", "陈医生"]


async def test_correction_keeps_history_and_stays_accepted(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    url = f"{FILINGS}/{filing['id']}"
    corrected = await client.post(
        f"{url}/correct",
        json={"nurses": 3, "reason": "新增护士"},
        headers={**admin_of(tokens, institution), "If-Match": '"1"'},
    )
    assert corrected.status_code == 200
    assert corrected.json()["state"] == "accepted"
    assert corrected.json()["nurses"] == 3
    assert corrected.json()["revision"] == 2
    assert corrected.json()["filing_no"] == filing["filing_no"]
    history = await client.get(f"{url}/history", headers=admin_of(tokens, institution))
    assert history.json()[-1]["changes"] == {"nurses": [2, 3]}


@pytest.mark.parametrize(
    ("setup", "action", "allowed"),
    [
        ("revoke", "revoke", []),
        ("revoke", "correct", []),
        ("reject", "revoke", ["resubmit"]),
        (None, "submit", ["correct", "reject", "revoke"]),
        (None, "resubmit", ["correct", "reject", "revoke"]),
    ],
)
async def test_illegal_transitions_are_409_with_the_allowed_ones(
    client: httpx.AsyncClient, tokens: Tokens, setup: str | None, action: str, allowed: list[str]
) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    url, county = f"{FILINGS}/{filing['id']}", tokens.headers(Role.county_admin, HULI)
    etag = '"1"'
    if setup:
        first = await client.post(
            f"{url}/{setup}", json={"reason": "理由说明"}, headers={**county, "If-Match": etag}
        )
        etag = first.headers["etag"]
    response = await client.post(
        f"{url}/{action}", json={"reason": "理由说明"}, headers={**county, "If-Match": etag}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert response.json()["extra"]["allowed"] == allowed


async def test_institution_admin_cannot_revoke_its_filing(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    response = await client.post(
        f"{FILINGS}/{filing['id']}/revoke",
        json={"reason": "自行撤销"},
        headers={**admin_of(tokens, institution), "If-Match": '"1"'},
    )
    assert response.status_code == 403


async def test_other_county_cannot_see_or_revoke(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    filing = await file_complete(client, tokens, institution)
    other = tokens.headers(Role.county_admin, SIMING)
    assert (await client.get(f"{FILINGS}/{filing['id']}", headers=other)).status_code == 404
    revoke = await client.post(
        f"{FILINGS}/{filing['id']}/revoke", json={"reason": "越权"}, headers={**other, "If-Match": '"1"'}
    )
    assert revoke.status_code == 404
    city = await client.get(f"{FILINGS}/{filing['id']}", headers=tokens.headers(Role.city_admin, "350200"))
    assert city.status_code == 200


async def test_a_medical_institution_cannot_file_an_internal_clinic(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    hospital = await create_institution(client, tokens, hospital_body())
    response = await client.post(
        FILINGS, json=filing_body(hospital["id"]), headers=tokens.headers(Role.county_admin, HULI)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "filing_not_allowed"


async def test_institution_admin_cannot_file_for_another_institution(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(client, tokens)
    response = await client.post(
        FILINGS,
        json=filing_body(institution["id"]),
        headers=tokens.headers(Role.institution_admin, HULI, institution_id=uuid.uuid4()),
    )
    assert response.status_code == 404
