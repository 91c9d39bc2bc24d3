"""The contracts feed gives each reader the entity types its lists give it, with the fields they show.

Expected, from the rules (ARCHITECTURE.md: a feed entry goes only to a reader allowed to list that
entity; rules.md 医养签约 and 双向转诊): officials see their region's agreements, 巡诊 visits and referrals;
the two parties' institution admins see theirs; a city platform and a service caller follow agreements and
visits but not referrals, whose clinical reason and resident stay with the parties and the officials
(issue 11). Nurses and doctors (institution_staff) do not follow the feed. No payload carries the
referral's reason, the resident, the contacts' phones or the visits' findings.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.contracts.agreements.schemas import AgreementRead
from services.contracts.feed import FEED
from services.contracts.referrals.schemas import ReferralRead
from services.contracts.visits.schemas import VisitRead
from tests.contracts.registry_data import RegistryData
from tests.feed_readers import SECRET, assert_only_list_fields, read_feed, types_seen, write_one_of_each

CHANGES = "/api/v1/contracts/changes"
HULI = "350206"
MEDICAL, ELDERLY = uuid.uuid4(), uuid.uuid4()

READERS: dict[str, tuple[Role, str, uuid.UUID | None, set[str] | None]] = {
    # reader: (role, region, institution, entity types it receives; None = the feed is refused)
    "city_platform": (Role.city_platform, "350200", None, {"agreement", "visit"}),
    "county_admin": (Role.county_admin, HULI, None, {"agreement", "visit", "referral"}),
    "institution_admin": (Role.institution_admin, HULI, ELDERLY, None),
    "institution_staff": (Role.institution_staff, HULI, ELDERLY, None),
    "service": (Role.service, "350000", None, {"agreement", "visit", "referral"}),
}

SHOWN_BY: dict[str, type[BaseModel]] = {
    "agreement": AgreementRead,
    "visit": VisitRead,
    "referral": ReferralRead,
}
# what the agreement list shows inside medical_party / elderly_party / document
AGREEMENT_NESTED = {
    f"{party}_{name}"
    for party in ("medical", "elderly")
    for name in ("institution_id", "name", "region_code")
} | {f"document_{name}" for name in ("filename", "size_bytes", "sha256", "uploaded_at")}


def _records() -> dict[str, dict[str, Any]]:
    parties = {"region_code": HULI, "medical_institution_id": MEDICAL, "elderly_institution_id": ELDERLY}
    secret = SECRET.encode()
    return {
        "agreement": {
            **parties,
            "title": "医养签约",
            "medical_contact_name": SECRET,
            "medical_contact_phone_enc": secret,
            "elderly_contact_phone_enc": secret,
            "source_hash": SECRET,
        },
        "visit": {
            **parties,
            "findings": SECRET,
            "resident_refs": [SECRET],
            "homebound_orders": [{"x": SECRET}],
        },
        "referral": {
            **parties,
            "reason": SECRET,
            "close_reason": SECRET,
            "resident_name_enc": secret,
            "resident_id_number_enc": secret,
            "resident_id_hash": SECRET,
        },
    }


@pytest.mark.parametrize("reader", list(READERS))
async def test_each_reader_gets_the_entity_types_it_may_list(
    reader: str, client: httpx.AsyncClient, registry: RegistryData, contracts_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(contracts_app, FEED, _records())
    role, region, institution, expected = READERS[reader]
    status, entries = await read_feed(
        client, CHANGES, tokens.headers(role, region, institution_id=institution)
    )
    if expected is None:
        assert status == 403
        return
    assert status == 200
    assert types_seen(entries, ids) == expected
    assert_only_list_fields(entries, SHOWN_BY, {"agreement": AGREEMENT_NESTED})


async def test_a_platform_may_not_subscribe_to_referrals(
    client: httpx.AsyncClient, registry: RegistryData, contracts_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(contracts_app, FEED, _records())
    platform = tokens.headers(Role.city_platform, "350200")
    refused = await client.get(CHANGES, params={"entity_types": "referral"}, headers=platform)
    assert (refused.status_code, refused.json()["code"]) == (403, "entity_type_forbidden")
    status, entries = await read_feed(client, CHANGES, platform, entity_types="visit")
    assert (status, types_seen(entries, ids)) == (200, {"visit"})
