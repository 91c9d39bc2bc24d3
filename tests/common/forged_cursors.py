"""Forged pagination cursors, and a walk of every list endpoint of an app with them.

A list endpoint is any GET of the app's OpenAPI document with a ``cursor`` query parameter (keyset
pagination, :mod:`libs.common.pagination`) or an ``after`` one (the change feed,
:mod:`libs.common.change_feed`). Each is first called without a cursor (it must answer 200, or the walk
would prove nothing), then with every forged cursor: the answer must be a 422 problem with the stable
code ``invalid_cursor`` — never a 5xx, never a page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from fastapi import FastAPI

PROBLEM = "application/problem+json"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def json_cursor(text: str) -> str:
    return b64(text.encode("utf-8", "surrogatepass"))


# JSON values that fit no column a list sorts by (uuid, text, date, timestamp, integer).
_BAD_VALUES = (
    "null",
    "[]",
    "{}",
    "true",
    "1.5",
    "99999999999999999999999",
    "-99999999999999999999999",
    "1e999",
    '""',
    '"not-a-uuid"',
    '"\\u0000"',
    '"\\ud800"',
    '"9999-12-31T23:59:59-01:00"',
    '"0001-01-01T00:00:00+01:00"',
    '"2026-01-01T00:00:00"',
    '"2026-02-30"',
)
# A value that is plausible for the first column of a multi-column sort (region code, timestamp, date).
_PLAUSIBLE_FIRST = ('"350206"', '"2026-01-01T00:00:00+00:00"', '"2026-01-01"')


def forged_cursors(*, text_sorted: bool = False) -> list[str]:
    """Opaque cursors no server ever handed out (each short enough for the cursor's max_length).

    ``text_sorted``: the list sorts by one text column (a user name), where any text without control
    characters is a cursor the server could have made, so those are left out.
    """
    shapes: list[str] = []
    for value in _BAD_VALUES:
        if not (text_sorted and value.startswith('"') and "\\u" not in value):
            shapes.append(f"[{value}]")
        shapes += [f"[{value},{value}]", f"[{value},{value},{value}]"]
        shapes += [f"[{first},{value}]" for first in _PLAUSIBLE_FIRST]
        if not value.startswith('"'):  # any text is a valid name in (region_code, name, id)
            shapes += [f'["350206",{value},"00000000-0000-0000-0000-000000000000"]']
    shapes += ["[[[[[[[[[[]]]]]]]]]]", "[1,2,3,4,5]", '{"id":1}', "null", "1", '"x"', "[" * 100]
    cursors = [json_cursor(shape) for shape in shapes]
    cursors += [
        "!!!!",
        "游标",
        "%00",
        b64(b"\xff\xfe\xfd"),
        b64(b"seq:99999999999999999999999"),
        b64(b"seq:-1"),
        b64(b"seq:1_0"),
        b64(b"seq:"),
        b64("seq:١٢".encode()),
        b64(b"seq:1e3"),
    ]
    return cursors


def list_endpoints(app: FastAPI) -> dict[str, str]:
    """Path → the name of its cursor parameter, for every GET that pages with a cursor."""
    found: dict[str, str] = {}
    for path, operations in app.openapi()["paths"].items():
        operation = operations.get("get")
        if not operation:
            continue
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        for name in ("cursor", "after"):
            if name in names:
                found[path] = name
    return found


Failures = list[tuple[str, int, str]]


async def walk(
    client: httpx.AsyncClient,
    path: str,
    parameter: str,
    headers: Mapping[str, str],
    *,
    query: Mapping[str, str] | None = None,
    cursors: Callable[[], list[str]] = forged_cursors,
) -> Failures:
    """Every forged cursor on one endpoint; the ones not answered 422 ``invalid_cursor``."""
    base: dict[str, Any] = dict(query or {})
    plain = await client.get(path, params=base, headers=headers)
    assert plain.status_code == 200, f"{path} without a cursor: {plain.status_code} {plain.text}"
    failures: Failures = []
    for cursor in cursors():
        response = await client.get(path, params={**base, parameter: cursor}, headers=headers)
        body = response.json() if response.headers.get("content-type", "").startswith(PROBLEM) else {}
        if response.status_code != 422 or body.get("code") != "invalid_cursor":
            failures.append((cursor, response.status_code, response.text[:200]))
    return failures


def _shown(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8", "replace")
    except ValueError:
        return cursor


def describe(failures: Failures) -> str:
    """The first failures, readable: status, the decoded cursor, the start of the answer."""
    return "\n".join(f"{status} {json.dumps(_shown(c))}: {text}" for c, status, text in failures[:20])
