"""Expected scope of records, independent of the code they test (ARCHITECTURE.md "Regions and scope",
shared/domain/rules.md "Region scope"): a principal's scope is a region-code prefix (province ``35``, city
``3502``, county ``350206``) and an institution user sees only its institution's records.

Two kinds of test share these helpers:

- **by id** — a record is made in 湖里 (350206) by one institution; :data:`OUTSIDERS` (another county,
  another city, another city's platform, another institution's admin and staff) call every endpoint that
  names it by id and get 404, reads and writes alike (root README "Where this departs from the agreed
  design": a write to a record the caller cannot see is not answered 403, which would reveal it). Only
  outsiders whose role may call the endpoint at all (the service's expected access table) are tried.
- **lists** — one record in 湖里 350206, one in 思明 350203 and one in 福州 (仓山 350104); each of
  :data:`LIST_VIEWERS` lists and must see exactly the records of its region, an institution user only its
  institution's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.access_matrix import Matrix

HULI = "350206"
SIMING = "350203"
CANGSHAN = "350104"
#: where the three records of a list test are made, by label
REGIONS = {"huli": HULI, "siming": SIMING, "fuzhou": CANGSHAN}

#: (label, role, region) of callers outside a 湖里 record's scope; institution users of another institution
OUTSIDERS: list[tuple[str, Role, str]] = [
    ("siming county", Role.county_admin, SIMING),
    ("fuzhou city", Role.city_admin, "350100"),
    ("fuzhou platform", Role.city_platform, "350100"),
    ("other institution admin", Role.institution_admin, HULI),
    ("other institution staff", Role.institution_staff, HULI),
]

#: (label, role, region, records it must list) — records are named ``huli``, ``siming``, ``fuzhou``;
#: ``INSTITUTION`` in the region column means "a user of the 湖里 record's institution"
INSTITUTION = "institution"
LIST_VIEWERS: list[tuple[str, Role, str, frozenset[str]]] = [
    ("huli county", Role.county_admin, HULI, frozenset({"huli"})),
    ("siming county", Role.county_admin, SIMING, frozenset({"siming"})),
    ("xiamen city", Role.city_admin, "350200", frozenset({"huli", "siming"})),
    ("fuzhou city", Role.city_admin, "350100", frozenset({"fuzhou"})),
    ("xiamen platform", Role.city_platform, "350200", frozenset({"huli", "siming"})),
    ("province", Role.province_admin, "350000", frozenset({"huli", "siming", "fuzhou"})),
    ("huli institution admin", Role.institution_admin, INSTITUTION, frozenset({"huli"})),
    ("huli institution staff", Role.institution_staff, INSTITUTION, frozenset({"huli"})),
]


def paged_lists(app: FastAPI, base: str) -> set[str]:
    """Every GET path (relative to ``base``) that pages with a ``cursor`` (the service's lists)."""
    return {
        path.removeprefix(base)
        for path, operations in app.openapi()["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    }


def by_id_operations(matrix: Matrix, base: str) -> set[tuple[str, str]]:
    """Every (METHOD, path relative to ``base``) of the access table whose path names a record."""
    return {(method, path.removeprefix(base)) for method, path in matrix if "{" in path}


def outsider_headers(tokens: Tokens, role: Role, region: str) -> dict[str, str]:
    """A token of ``role`` in ``region``; institution users belong to a made-up institution."""
    if role in (Role.institution_admin, Role.institution_staff):
        return tokens.headers(role, region, institution_id=uuid.uuid4(), practitioner_id=uuid.uuid4())
    return tokens.headers(role, region)


def viewer_headers(
    tokens: Tokens, role: Role, region: str, institution: Mapping[str, str] | None
) -> dict[str, str]:
    """The headers of a :data:`LIST_VIEWERS` row; ``institution`` is {id, region_code} of the 湖里 one."""
    if region == INSTITUTION:
        assert institution is not None
        return tokens.headers(
            role,
            institution["region_code"],
            institution_id=uuid.UUID(institution["id"]),
            practitioner_id=uuid.uuid4(),
        )
    return tokens.headers(role, region)


def example_body(app: FastAPI, method: str, path: str) -> dict[str, Any] | None:
    """The operation's documented JSON request example (``path`` as documented), with fresh client ids
    and today's clock; ``{}`` when it documents none, ``None`` without a JSON body."""
    document = app.openapi()
    operation = document["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    ref = schema.get("$ref") or next((s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s), None)
    examples = document["components"]["schemas"][ref.split("/")[-1]].get("examples") if ref else None
    if not examples and content.get("examples"):
        examples = [example.get("value") for example in content["examples"].values()]
    body = dict(examples[0]) if examples else {}
    now = datetime.now(UTC).isoformat()
    for key in ("client_event_id", "record_id", "client_record_id"):
        if key in body or key == "record_id" and path.endswith("visit-record"):
            body[key] = str(uuid.uuid4())
    for key in ("client_at", "client_created_at", "client_updated_at"):
        if key in body:
            body[key] = now
    return body


async def assert_outsiders_get_404(
    client: httpx.AsyncClient,
    tokens: Tokens,
    row: Mapping[Role, bool],
    method: str,
    url: str,
    *,
    json: Any = None,
    files: Mapping[str, Any] | None = None,
    data: Mapping[str, str] | None = None,
) -> int:
    """Every outsider allowed by ``row`` calls ``url`` and must get 404 problem+json; the number tried."""
    tried = 0
    for label, role, region in OUTSIDERS:
        if not row[role]:
            continue
        tried += 1
        headers = {**outsider_headers(tokens, role, region), "If-Match": "*"}
        if files is not None:
            response = await client.request(method, url, files=files, data=data, headers=headers)
        else:
            response = await client.request(method, url, json=json, headers=headers)
        assert response.status_code == 404, (label, method, url, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), label
    return tried


async def listed_ids(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    params: Mapping[str, str] | None = None,
    id_key: str = "id",
) -> set[str]:
    """The ``id_key`` of every item of every page of a cursor-paged list."""
    ids: set[str] = set()
    cursor: str | None = None
    for _ in range(100):
        query = {**(params or {}), "limit": "200", **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.text)
        page = response.json()
        ids |= {str(item[id_key]) for item in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            return ids
    raise AssertionError(f"{path}: more than 100 pages")


async def seen_records(
    client: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    records: Mapping[str, str],
    params: Mapping[str, str] | None = None,
    id_key: str = "id",
) -> set[str]:
    """Which of ``records`` ({label: id}) the caller's list shows."""
    ids = await listed_ids(client, path, headers, params, id_key)
    return {label for label, record_id in records.items() if record_id in ids}


async def assert_lists_keep_to_scope(
    client: httpx.AsyncClient,
    tokens: Tokens,
    row: Mapping[Role, bool],
    path: str,
    records: Mapping[str, str],
    institution: Mapping[str, str],
    params: Mapping[str, str] | None = None,
    id_key: str = "id",
) -> None:
    """Each :data:`LIST_VIEWERS` row whose role ``row`` (the list's access-table row) allows lists ``path``
    and must see exactly its records of ``records`` ({region label: id}, one per :data:`REGIONS`);
    ``institution`` is {id, region_code} of the 湖里 record's institution."""
    expected: dict[str, frozenset[str]] = {}
    seen: dict[str, set[str]] = {}
    for label, role, region, sees in LIST_VIEWERS:
        if not row[role]:
            continue
        headers = viewer_headers(tokens, role, region, institution)
        expected[label] = sees
        seen[label] = await seen_records(client, path, headers, records, params, id_key)
    assert seen == expected
    assert any(len(sees) < len(REGIONS) for sees in expected.values()), "no viewer is kept to a part"
