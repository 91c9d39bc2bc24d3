"""Errors, pagination, ETag/If-Match, request ids and health on a throwaway service."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens, live_client

NOTES = "/api/v1/sample/notes"


def _county(tokens: Tokens, code: str = "350206") -> dict[str, str]:
    return tokens.headers(Role.county_admin, code)


async def test_validation_error_is_problem_json_with_field_paths(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(NOTES, json={"title": "", "region_code": "110000"}, headers=_county(tokens))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_failed"
    assert {e["field"] for e in body["errors"]} == {"body.title", "body.region_code"}
    assert body["request_id"] == response.headers["x-request-id"]


async def test_malformed_json_body_is_422_not_500(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        NOTES, content=b"{not json", headers={**_county(tokens), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient, tokens: Tokens) -> None:
    missing = await client.get("/api/v1/sample/nothing", headers=_county(tokens))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = await client.put(NOTES, headers=_county(tokens))
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


async def test_unique_violation_maps_to_409(client: httpx.AsyncClient, tokens: Tokens) -> None:
    first = await client.post(NOTES, json={"title": "dup", "region_code": "350206"}, headers=_county(tokens))
    assert first.status_code == 201
    second = await client.post(NOTES, json={"title": "dup", "region_code": "350206"}, headers=_county(tokens))
    assert (second.status_code, second.json()["code"]) == (409, "conflict")


async def test_missing_permission_is_403_with_code(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        NOTES, json={"title": "x", "region_code": "350206"}, headers=tokens.headers(Role.city_admin, "350200")
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


async def test_write_outside_scope_is_403_and_read_outside_scope_is_404(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    outside = await client.post(NOTES, json={"title": "x", "region_code": "350203"}, headers=_county(tokens))
    assert (outside.status_code, outside.json()["code"]) == (403, "out_of_scope")
    created = await client.post(
        NOTES, json={"title": "mine", "region_code": "350206"}, headers=_county(tokens)
    )
    hidden = await client.get(f"{NOTES}/{created.json()['id']}", headers=_county(tokens, "350203"))
    assert (hidden.status_code, hidden.json()["code"]) == (404, "note_not_found")
    city = await client.get(
        f"{NOTES}/{created.json()['id']}", headers=tokens.headers(Role.city_admin, "350200")
    )
    assert city.status_code == 200


async def test_fuzhou_city_scope_excludes_pingtan(client: httpx.AsyncClient, tokens: Tokens) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    pingtan = await client.post(NOTES, json={"title": "平潭", "region_code": "350128"}, headers=province)
    gulou = await client.post(NOTES, json={"title": "鼓楼", "region_code": "350102"}, headers=province)
    fuzhou = tokens.headers(Role.city_admin, "350100")
    assert (await client.get(f"{NOTES}/{gulou.json()['id']}", headers=fuzhou)).status_code == 200
    assert (await client.get(f"{NOTES}/{pingtan.json()['id']}", headers=fuzhou)).status_code == 404
    pingtan_admin = tokens.headers(Role.city_admin, "350128")
    assert (await client.get(f"{NOTES}/{pingtan.json()['id']}", headers=pingtan_admin)).status_code == 200


async def test_institution_user_sees_only_its_institution(client: httpx.AsyncClient, tokens: Tokens) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    province = tokens.headers(Role.province_admin, "350000")
    for title, inst in (("a", mine), ("b", other)):
        await client.post(
            NOTES,
            json={"title": title, "region_code": "350206", "institution_id": str(inst)},
            headers=province,
        )
    listed = await client.get(
        NOTES, headers=tokens.headers(Role.institution_admin, "350206", institution_id=mine)
    )
    assert [n["title"] for n in listed.json()["items"]] == ["a"]


async def test_cursor_pagination_walks_every_row_once_in_order(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    titles = [f"page-{i:02d}" for i in range(7)]
    for title in reversed(titles):
        await client.post(NOTES, json={"title": title, "region_code": "350206"}, headers=_county(tokens))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3, "title_prefix": "page-"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(NOTES, params=params, headers=_county(tokens))).json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == titles


async def test_bad_cursor_and_limit_are_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    bad = await client.get(NOTES, params={"cursor": "not-a-cursor"}, headers=_county(tokens))
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")
    too_many = await client.get(NOTES, params={"limit": 201}, headers=_county(tokens))
    assert too_many.status_code == 422


async def test_update_needs_if_match_and_rejects_stale_versions(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await client.post(NOTES, json={"title": "v1", "region_code": "350206"}, headers=_county(tokens))
    url = f"{NOTES}/{created.json()['id']}"
    missing = await client.patch(url, json={"title": "v2"}, headers=_county(tokens))
    assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
    ok = await client.patch(
        url, json={"title": "v2"}, headers={**_county(tokens), "If-Match": created.headers["etag"]}
    )
    assert ok.status_code == 200
    assert ok.headers["etag"] == '"2"'
    stale = await client.patch(
        url, json={"title": "v3"}, headers={**_county(tokens), "If-Match": created.headers["etag"]}
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")
    assert stale.json()["extra"]["current_etag"] == '"2"'


async def test_concurrent_updates_with_one_version_one_wins(sample_app: FastAPI, tokens: Tokens) -> None:
    headers = _county(tokens)
    async with live_client(sample_app) as client:
        created = await client.post(
            NOTES, json={"title": f"race-{uuid.uuid4()}", "region_code": "350206"}, headers=headers
        )
        url = f"{NOTES}/{created.json()['id']}"
        results = await asyncio.gather(
            *(
                client.patch(
                    url, json={"title": f"race-{uuid.uuid4()}"}, headers={**headers, "If-Match": '"1"'}
                )
                for _ in range(2)
            )
        )
    assert sorted(r.status_code for r in results) == [200, 412]


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "service": "sample"}
    assert (await client.get("/readyz")).json() == {"status": "ready", "service": "sample"}
