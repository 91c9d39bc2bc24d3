"""One vocabulary (issue 12, STYLE.md "Shared protocols"): an institution's coordinates are ``latitude`` /
``longitude``, as in homecare. The old names ``lat`` / ``lng`` keep working for one version (until API
2.0.0): accepted on input (create, PATCH, bulk, the nearby query), emitted beside the new ones in responses
and the change feed, and marked ``deprecated`` in OpenAPI. Both names given with different values is
refused (422 ``renamed_field_conflict``), never silently resolved."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.feed_readers import read_feed
from tests.openapi.document import service_document
from tests.registry.factories import INSTITUTIONS, institution_body

CONFLICT = "renamed_field_conflict"
RENAMED = {"lat": "latitude", "lng": "longitude"}
HOME = {"latitude": 24.512, "longitude": 118.146}


def county(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.county_admin, "350206")


def body(**coordinates: Any) -> dict[str, Any]:
    """An institution body carrying exactly the coordinate names given."""
    base = institution_body(**coordinates)
    for name in ("lat", "lng", "latitude", "longitude"):
        if name not in coordinates:
            base.pop(name, None)
    return base


def assert_both_names(institution: dict[str, Any], latitude: float, longitude: float) -> None:
    assert (institution["latitude"], institution["longitude"]) == (latitude, longitude)
    assert (institution["lat"], institution["lng"]) == (latitude, longitude)


def assert_conflict(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert CONFLICT in {e["code"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    "coordinates",
    [
        {"latitude": 24.52, "longitude": 118.15},
        {"lat": 24.52, "lng": 118.15},
        {"latitude": 24.52, "lng": 118.15},
        {"latitude": 24.52, "lat": 24.52, "longitude": 118.15, "lng": 118.15},
    ],
    ids=["new names", "old names", "one of each", "both agreeing"],
)
async def test_create_accepts_new_and_old_names_and_answers_both(
    client: httpx.AsyncClient, tokens: Tokens, coordinates: dict[str, float]
) -> None:
    created = await client.post(INSTITUTIONS, json=body(**coordinates), headers=county(tokens))
    assert created.status_code == 201, created.text
    assert_both_names(created.json(), 24.52, 118.15)
    read = await client.get(f"{INSTITUTIONS}/{created.json()['id']}", headers=county(tokens))
    assert_both_names(read.json(), 24.52, 118.15)


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
async def test_create_refuses_old_and_new_names_that_differ(
    client: httpx.AsyncClient, tokens: Tokens, old: str, new: str
) -> None:
    coordinates = {**HOME, old: HOME[new] + 0.01}
    response = await client.post(INSTITUTIONS, json=body(**coordinates), headers=county(tokens))
    assert_conflict(response)


@pytest.mark.parametrize("names", [("latitude", "longitude"), ("lat", "lng")], ids=["new", "old"])
async def test_patch_moves_an_institution_under_either_name(
    client: httpx.AsyncClient, tokens: Tokens, names: tuple[str, str]
) -> None:
    created = (await client.post(INSTITUTIONS, json=body(**HOME), headers=county(tokens))).json()
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={names[0]: 24.6, names[1]: 118.2},
        headers={**county(tokens), "If-Match": f'"{created["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert_both_names(response.json(), 24.6, 118.2)


async def test_patch_refuses_old_and_new_names_that_differ(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = (await client.post(INSTITUTIONS, json=body(**HOME), headers=county(tokens))).json()
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"latitude": 24.6, "lat": 24.7, "longitude": 118.2},
        headers={**county(tokens), "If-Match": f'"{created["version"]}"'},
    )
    assert_conflict(response)


async def test_bulk_records_take_either_name_and_reject_a_conflict(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    platform = tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
    records = [
        {"external_id": "VOC-NEW", **body(name="平台新名护理院", latitude=24.52, longitude=118.15)},
        {"external_id": "VOC-OLD", **body(name="平台旧名护理院", lat=24.53, lng=118.16)},
        {"external_id": "VOC-BAD", **body(name="平台冲突护理院", latitude=24.52, lat=24.6, longitude=118.15)},
    ]
    response = await client.post(
        f"{INSTITUTIONS}/bulk", json={"source_system": "xm-ijiankang", "records": records}, headers=platform
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "created", "rejected"]
    assert CONFLICT in {e["code"] for e in results[2]["errors"]}
    # an update of a matched record under the old name moves it
    again = await client.post(
        f"{INSTITUTIONS}/bulk",
        json={"source_system": "xm-ijiankang", "records": [{**records[0], "lat": 24.55, "latitude": 24.55}]},
        headers=platform,
    )
    assert [r["outcome"] for r in again.json()["results"]] == ["updated"], again.text
    moved = await client.get(f"{INSTITUTIONS}/{results[0]['id']}", headers=county(tokens))
    assert_both_names(moved.json(), 24.55, 118.15)
    old = await client.get(f"{INSTITUTIONS}/{results[1]['id']}", headers=county(tokens))
    assert_both_names(old.json(), 24.53, 118.16)


@pytest.mark.parametrize(
    "point",
    [{"latitude": 24.512, "longitude": 118.146}, {"lat": 24.512, "lng": 118.146}],
    ids=["new names", "old names"],
)
async def test_nearby_takes_the_point_under_either_name(
    client: httpx.AsyncClient, tokens: Tokens, point: dict[str, float]
) -> None:
    created = (
        await client.post(
            INSTITUTIONS,
            json=body(name="就近新旧名护理院", latitude=24.521, longitude=118.146),
            headers=county(tokens),
        )
    ).json()
    response = await client.get(
        f"{INSTITUTIONS}/nearby", params={**point, "radius_km": 2}, headers=county(tokens)
    )
    assert response.status_code == 200, response.text
    found = {r["institution"]["id"]: r for r in response.json()}
    assert created["id"] in found
    assert_both_names(found[created["id"]]["institution"], 24.521, 118.146)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"latitude": 24.512, "lat": 24.6, "longitude": 118.146}, CONFLICT),
        ({"latitude": 24.512, "longitude": 118.146, "lng": 118.2}, CONFLICT),
        ({"longitude": 118.146}, "missing"),
        ({"lat": 24.512}, "missing"),
    ],
    ids=["latitude conflict", "longitude conflict", "no latitude", "no longitude"],
)
async def test_nearby_refuses_a_conflict_or_a_missing_coordinate(
    client: httpx.AsyncClient, tokens: Tokens, params: dict[str, float], code: str
) -> None:
    response = await client.get(f"{INSTITUTIONS}/nearby", params=params, headers=county(tokens))
    assert response.status_code == 422, response.text
    assert code in {e["code"] for e in response.json()["errors"]}


async def test_the_change_feed_carries_both_names(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = (
        await client.post(
            INSTITUTIONS, json=body(name="订阅新旧名护理院", lat=24.52, lng=118.15), headers=county(tokens)
        )
    ).json()
    status, entries = await read_feed(client, "/api/v1/registry/changes", county(tokens))
    assert status == 200
    mine = [e for e in entries if e["entity_id"] == created["id"]]
    assert mine
    assert_both_names(mine[-1]["data"], 24.52, 118.15)


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = service_document("registry")["components"]["schemas"]
    return schemas


@pytest.mark.parametrize(
    "schema",
    [
        "InstitutionCreate",
        "InstitutionUpdate",
        "InstitutionBulkRecord",
        "InstitutionRead",
        "InstitutionFeedPayload",
    ],
)
def test_openapi_lists_both_names_and_marks_the_old_ones_deprecated(schema: str) -> None:
    properties = _schemas()[schema]["properties"]
    for old, new in RENAMED.items():
        assert not properties[new].get("deprecated", False)
        assert properties[old]["deprecated"] is True
        assert new in properties[old]["description"]
        assert "2.0.0" in properties[old]["description"]


def test_openapi_marks_the_old_query_names_of_nearby_deprecated() -> None:
    operation = service_document("registry")["paths"]["/api/v1/registry/institutions/nearby"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    for old, new in RENAMED.items():
        assert not parameters[new].get("deprecated", False)
        assert parameters[old]["deprecated"] is True
        assert "2.0.0" in parameters[old]["description"]
