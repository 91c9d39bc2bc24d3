"""The registry feed gives each reader the entity types its lists give it, with the fields they show.

Expected, from the rules (ARCHITECTURE.md "Regions and scope", "HTTP conventions": a feed entry goes only
to a reader allowed to list that entity): officials of a county manage their institutions, filings and
practitioners; a city platform syncs institutions (issue 11: it must not receive practitioners' names,
certificates and trainings, nor filings); 示范 applications are readable by every role (issue 8's table).
Registry institution users do not follow the feed (no ``changes:read``). 示范 batches carry no region and
so lie in no reader's scope (unchanged behaviour).
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
from services.registry.demonstration.schemas import ApplicationListItem, BatchRead
from services.registry.feed import FEED
from services.registry.filings.schemas import FilingRead
from services.registry.institutions.schemas import InstitutionRead, YearStatRead
from services.registry.practitioners.schemas import PractitionerRead
from tests.feed_readers import SECRET, assert_only_list_fields, read_feed, types_seen, write_one_of_each

CHANGES = "/api/v1/registry/changes"
INSTITUTION = uuid.uuid4()
HULI = "350206"

READERS: dict[str, tuple[Role, str, set[str] | None]] = {
    # reader: (role, region, entity types it receives; None = the feed is refused)
    "city_platform": (Role.city_platform, "350200", {"institution", "demonstration_application"}),
    "county_admin": (
        Role.county_admin,
        HULI,
        {"institution", "institution_year_stat", "filing", "practitioner", "demonstration_application"},
    ),
    "institution_admin": (Role.institution_admin, HULI, None),
    "service": (
        Role.service,
        "350000",
        {"institution", "institution_year_stat", "filing", "practitioner", "demonstration_application"},
    ),
}

SHOWN_BY: dict[str, type[BaseModel]] = {
    "institution": InstitutionRead,
    "institution_year_stat": YearStatRead,
    "filing": FilingRead,
    "practitioner": PractitionerRead,
    "demonstration_batch": BatchRead,
    "demonstration_application": ApplicationListItem,
}
STAGE_DATES = {
    f"{stage}_{end}_date"
    for stage in ("preparation", "application", "city_recommendation", "provincial_review")
    + ("national_assessment", "public_notice", "naming")
    for end in ("start", "end")
}


def _records() -> dict[str, dict[str, Any]]:
    secret = SECRET.encode()
    return {
        # no name: the name index (a commit hook) would need the row itself
        "institution": {"region_code": HULI, "contact_phone_enc": secret},
        "institution_year_stat": {
            "region_code": HULI,
            "institution_id": INSTITUTION,
            "year": 2025,
            "residents": 120,
        },
        "filing": {"region_code": HULI, "institution_id": INSTITUTION, "unit_name": "兰馨医务室"},
        "practitioner": {
            "region_code": HULI,
            "institution_id": INSTITUTION,
            "name": "王护士",
            "id_number_enc": secret,
            "id_number_hash": SECRET,
            "phone_enc": secret,
        },
        "demonstration_batch": {"name": "第二批"},
        "demonstration_application": {
            "region_code": HULI,
            "city_code": "350200",
            "institution_id": INSTITUTION,
            "contact_name": SECRET,
            "county_opinion": SECRET,
            "province_site_visit_findings": SECRET,
        },
    }


@pytest.mark.parametrize("reader", list(READERS))
async def test_each_reader_gets_the_entity_types_it_may_list(
    reader: str, client: httpx.AsyncClient, registry_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(registry_app, FEED, _records())
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
    assert_only_list_fields(entries, SHOWN_BY, {"demonstration_batch": STAGE_DATES})


async def test_a_subscriber_chooses_entity_types_among_those_it_may_list(
    client: httpx.AsyncClient, registry_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(registry_app, FEED, _records())
    county = tokens.headers(Role.county_admin, HULI)
    status, entries = await read_feed(client, CHANGES, county, entity_types="institution, filing")
    assert (status, types_seen(entries, ids)) == (200, {"institution", "filing"})

    unknown = await client.get(CHANGES, params={"entity_types": "institution,bed"}, headers=county)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_entity_type")
    platform = tokens.headers(Role.city_platform, "350200")
    refused = await client.get(CHANGES, params={"entity_types": "institution,practitioner"}, headers=platform)
    assert (refused.status_code, refused.json()["code"]) == (403, "entity_type_forbidden")
    assert refused.headers["content-type"].startswith("application/problem+json")
