"""The homecare feed gives each reader the entity types its lists give it, with the fields they show.

Expected, from the rules (ARCHITECTURE.md: a feed entry goes only to a reader allowed to list that
entity, with the fields the list shows; "Personal data"; rules.md 互联网+护理服务 and 家庭病床): officials
of a county follow providers, recipients (never their whole ID number, phone or address), orders with their
items, ratings and visit records, complaints, and 家庭病床 with their rounds; a city platform, which places
orders and files complaints for its city's elders, follows the same but not home beds (clinical episodes
— issue 11 found one with its conditions in the platform's feed); an internal service caller follows
what it may list (no complaints). SOS alerts go to the provider institution's own list only, so no feed
reader receives them. Homecare institution users do not follow the feed.
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
from services.homecare.feed import FEED
from services.homecare.home_beds.schemas import HomeBedRead, HomeBedRoundRead
from services.homecare.orders.complaints.schemas import ComplaintRead
from services.homecare.orders.schemas import OrderItemRead, OrderSummary, RatingRead
from services.homecare.orders.sos.schemas import SosRead
from services.homecare.orders.visits.schemas import VisitRecordRead
from services.homecare.providers.schemas import ProviderItemRead, ProviderRead
from services.homecare.recipients.schemas import RecipientRead
from tests.feed_readers import SECRET, assert_only_list_fields, read_feed, types_seen, write_one_of_each

CHANGES = "/api/v1/homecare/changes"
HULI = "350206"
INSTITUTION = uuid.uuid4()

ORDERS = {"provider", "provider_item", "recipient", "order", "order_item", "rating", "visit_record"}
READERS: dict[str, tuple[Role, str, set[str] | None]] = {
    # reader: (role, region, entity types it receives; None = the feed is refused)
    "city_platform": (Role.city_platform, "350200", ORDERS | {"complaint"}),
    "county_admin": (Role.county_admin, HULI, ORDERS | {"complaint", "home_bed", "home_bed_round"}),
    "institution_admin": (Role.institution_admin, HULI, None),
    "service": (Role.service, "350000", ORDERS | {"home_bed", "home_bed_round"}),
}

SHOWN_BY: dict[str, type[BaseModel]] = {
    "provider": ProviderRead,
    "provider_item": ProviderItemRead,
    "recipient": RecipientRead,
    "order": OrderSummary,
    "order_item": OrderItemRead,
    "rating": RatingRead,
    "visit_record": VisitRecordRead,
    "sos_alert": SosRead,
    "complaint": ComplaintRead,
    "home_bed": HomeBedRead,
    "home_bed_round": HomeBedRoundRead,
}
# the parent a record is listed under (GET /providers/{id} items, /orders/{id}, /home-beds/{id}/rounds)
PARENTS = {
    "provider_item": {"institution_id"},
    "order_item": {"order_id"},
    "rating": {"order_id"},
    "home_bed_round": {"home_bed_id"},
}
# fields the lists show masked, or only to the serving institution: never in a feed
NEVER = {"name", "id_number", "phone", "address", "latitude", "longitude", "birth_date", "emergency_contact"}


def _records() -> dict[str, dict[str, Any]]:
    at = {"region_code": HULI, "institution_id": INSTITUTION}
    secret = SECRET.encode()
    return {
        "provider": {**at, "institution_name": "厦门新开元医院"},
        "provider_item": {**at, "item_code": "HC01"},
        "recipient": {
            **at,
            "name_enc": secret,
            "id_number_enc": secret,
            "id_number_hash": SECRET,
            "phone_enc": secret,
            "address_enc": secret,
            "emergency_contact_relation": SECRET,
        },
        "order": {
            **at,
            "address_enc": secret,
            "note": SECRET,
            "assessment_note": SECRET,
            "external_id": SECRET,
        },
        "order_item": {**at, "item_code": "HC01"},
        "rating": {**at, "score": 5, "comment": SECRET},
        "visit_record": {**at, "notes": SECRET},
        "sos_alert": {**at, "message": SECRET},
        "complaint": {**at, "content": SECRET, "resolution": SECRET},
        "home_bed": {**at, "diagnosis": SECRET, "care_plan": SECRET, "close_summary": SECRET},
        "home_bed_round": {**at, "findings": SECRET, "orders_text": SECRET},
    }


@pytest.mark.parametrize("reader", list(READERS))
async def test_each_reader_gets_the_entity_types_it_may_list(
    reader: str, client: httpx.AsyncClient, homecare_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(homecare_app, FEED, _records())
    role, region, expected = READERS[reader]
    headers = tokens.headers(
        role, region, institution_id=INSTITUTION if role is Role.institution_admin else None
    )
    status, entries = await read_feed(client, CHANGES, headers)
    if expected is None:
        assert status == 403
        return
    assert status == 200
    assert types_seen(entries, ids) == expected
    assert_only_list_fields(entries, SHOWN_BY, PARENTS)
    assert not any(NEVER & set(entry["data"] or {}) for entry in entries)


async def test_a_platform_may_not_subscribe_to_home_beds(
    client: httpx.AsyncClient, homecare_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(homecare_app, FEED, _records())
    platform = tokens.headers(Role.city_platform, "350200")
    refused = await client.get(CHANGES, params={"entity_types": "order,home_bed"}, headers=platform)
    assert (refused.status_code, refused.json()["code"]) == (403, "entity_type_forbidden")
    status, entries = await read_feed(client, CHANGES, platform, entity_types="recipient,order")
    assert (status, types_seen(entries, ids)) == (200, {"recipient", "order"})
