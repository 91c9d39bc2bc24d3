"""The residents feed gives each reader the entity types its lists give it, with the fields they show,
and never a person's data or a health finding.

Expected, from the rules (ARCHITECTURE.md: a feed entry goes only to a reader allowed to list that entity,
in its scope; "Personal data"): officials and the city platform follow their region's persons, teams,
packages, signings, check-ups, assessments and care services; institution users do not follow the feed
(their lists are enough); the indicators' service client follows what the three rates and the
assessment figures are computed from (persons, teams, signings, check-ups, assessments, care services —
not the packages' fees). One record of each type is written in 湖里 with a marker in every column the
feed leaves out as personal, health or free text; no reader ever receives a marker.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import LargeBinary, inspect

from libs.common.auth import Role
from libs.common.feed_reasons import BLIND_INDEX, FREE_TEXT, HEALTH, LOCATION, PERSONAL
from libs.common.testing import Tokens
from services.residents.feed import FEED
from tests.feed_readers import SECRET, assert_only_list_fields, read_feed, types_seen, write_one_of_each

CHANGES = "/api/v1/residents/changes"
HULI = "350206"
INSTITUTION = uuid.uuid4()
EVERY_TYPE = {entity.entity_type for entity in FEED}
RATES = {"person", "team", "team_member", "signing", "checkup", "assessment", "care_service"}
#: why a column is left out that makes it a marker's place
SENSITIVE = {PERSONAL, HEALTH, FREE_TEXT, BLIND_INDEX, LOCATION}

READERS: dict[str, tuple[Role, str, str | None, set[str] | None]] = {
    # reader: (role, region, service caller, entity types it receives; None = the feed is refused)
    "huli county": (Role.county_admin, HULI, None, EVERY_TYPE),
    "siming county": (Role.county_admin, "350203", None, set()),
    "xiamen city": (Role.city_admin, "350200", None, EVERY_TYPE),
    "fuzhou city": (Role.city_admin, "350100", None, set()),
    "province": (Role.province_admin, "350000", None, EVERY_TYPE),
    "xiamen platform": (Role.city_platform, "350200", None, EVERY_TYPE),
    "institution admin": (Role.institution_admin, HULI, None, None),
    "institution staff": (Role.institution_staff, HULI, None, None),
    "indicators": (Role.service, "350000", "indicators", RATES),
    "homecare": (Role.service, "350000", "homecare", None),
}


def _records() -> dict[str, dict[str, Any]]:
    """One record per entity type: in 湖里, of one institution, a marker in every sensitive column."""
    records: dict[str, dict[str, Any]] = {}
    for entity in FEED:
        columns = {column.key: column for column in inspect(entity.model).columns}
        attrs: dict[str, Any] = {}
        if "region_code" in columns:
            attrs["region_code"] = HULI
        if "institution_id" in columns:
            attrs["institution_id"] = INSTITUTION
        for name, reason in entity.excluded.items():
            if reason in SENSITIVE and name in columns:
                is_binary = isinstance(columns[name].type, LargeBinary)
                attrs[name] = SECRET.encode() if is_binary else SECRET
        records[entity.entity_type] = attrs
    return records


def test_every_entity_type_has_a_record_with_its_scope() -> None:
    records = _records()
    assert set(records) == EVERY_TYPE
    assert all(record.get("region_code") == HULI for record in records.values()), "an entity without a county"


@pytest.mark.parametrize("reader", list(READERS))
async def test_each_reader_gets_the_entity_types_it_may_list(
    reader: str, client: httpx.AsyncClient, residents_app: FastAPI, tokens: Tokens
) -> None:
    ids = await write_one_of_each(residents_app, FEED, _records())
    role, region, caller, expected = READERS[reader]
    headers = tokens.headers(
        role,
        region,
        institution_id=INSTITUTION if role in (Role.institution_admin, Role.institution_staff) else None,
        sub=f"service:{caller}" if caller else None,
    )
    status, entries = await read_feed(client, CHANGES, headers)
    if expected is None:
        assert status == 403
        return
    assert status == 200
    assert types_seen(entries, ids) == expected
    shown_by = {entity.entity_type: entity.shown_by for entity in FEED}
    nested = {entity.entity_type: set(entity.shown_as) for entity in FEED}
    assert_only_list_fields(entries, shown_by, nested)
