"""Expected-access tables for the permission tests, independent of the code they test.

Each service's ``test_access_matrix.py`` writes, as a readable table, which role may call which endpoint
(derived from the domain rules, not from ``permissions.py``), then calls every endpoint over HTTP with a
token of each role:

- a denied cell must answer 403 problem+json with code ``permission_denied``;
- an allowed cell must get past the permission check (anything but 401/403 and never a 5xx: a 404 for a
  made-up id or a 422 for an empty body shows that the check passed, and nothing is written).

A table row is ``METHOD /path/{template}`` (relative to the table's base path) followed by one mark per
role in :data:`ROLES` order — columns ``pv`` province_admin, ``ct`` city_admin, ``co`` county_admin,
``ia`` institution_admin, ``is`` institution_staff, ``pl`` city_platform: ``Y`` allowed, ``-`` denied.
Lines starting with ``#`` are comments (the source of the cell below them when it is not obvious).

A service's test module writes its table and subclasses :class:`AccessMatrixWalk` (as ``TestAccessMatrix``),
which walks it: every documented endpoint has a row, every cell, no token is 401.

The ``service`` role is left out on purpose: it is being redesigned (TODO: add its column when settled).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens, rolled_back_client

#: the columns of every table, in order
ROLES: tuple[Role, ...] = (
    Role.province_admin,
    Role.city_admin,
    Role.county_admin,
    Role.institution_admin,
    Role.institution_staff,
    Role.city_platform,
)
#: the region each role's token carries in the permission walk (厦门 / 湖里)
HOME_REGION: dict[Role, str] = {
    Role.province_admin: "350000",
    Role.city_admin: "350200",
    Role.county_admin: "350206",
    Role.institution_admin: "350206",
    Role.institution_staff: "350206",
    Role.city_platform: "350200",
}
Operation = tuple[str, str]
Matrix = dict[Operation, dict[Role, bool]]
#: what every service serves without a token
HEALTH_CHECKS: frozenset[Operation] = frozenset({("GET", "/healthz"), ("GET", "/readyz")})
_MARKS = {"Y": True, "-": False}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def parse(base: str, table: str) -> Matrix:
    """``METHOD path Y - Y …`` lines → {(METHOD, base + path): {role: allowed}}; blank and ``#`` lines
    skipped."""
    matrix: Matrix = {}
    for raw in table.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        method, path, *marks = line.split()
        if len(marks) != len(ROLES) or any(m not in _MARKS for m in marks):
            raise ValueError(f"bad table row: {raw!r}")
        key = (method.upper(), base + path)
        if key in matrix:
            raise ValueError(f"row listed twice: {raw!r}")
        matrix[key] = {role: _MARKS[m] for role, m in zip(ROLES, marks, strict=True)}
    return matrix


def operations(app: FastAPI) -> set[Operation]:
    """Every (METHOD, path) the app documents (its OpenAPI paths: every routed endpoint of the API)."""
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() for method in ops}


def concrete(path: str, values: Mapping[str, str] | None = None) -> str:
    """A path template with made-up values: ids are fresh UUIDs unless ``values`` names them."""
    defaults = {"year": "2024", "item_code": "HC02"}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return (values or {}).get(name) or defaults.get(name) or str(uuid.uuid4())

    return _PLACEHOLDER.sub(value, path)


def caller(tokens: Tokens, role: Role) -> dict[str, str]:
    """A token of ``role`` in its home region; institution users of a made-up institution (a nurse)."""
    extra: dict[str, Any] = {}
    if role in (Role.institution_admin, Role.institution_staff):
        extra = {"institution_id": uuid.uuid4(), "practitioner_id": uuid.uuid4()}
    return tokens.headers(role, HOME_REGION[role], **extra)


async def call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    """One request that cannot succeed: empty JSON body on writes, a stale If-Match."""
    body: dict[str, object] | None = None if method in ("GET", "DELETE") else {}
    return await client.request(method, path, json=body, headers={**headers, "If-Match": '"1"'})


def assert_cell(response: httpx.Response, allowed: bool, label: object) -> None:
    if allowed:
        assert response.status_code not in (401, 403), (label, response.status_code, response.text)
        assert response.status_code < 500, (label, response.status_code, response.text)
    else:
        assert response.status_code == 403, (label, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), label
        assert response.json()["code"] == "permission_denied", (label, response.text)


def cells(matrix: Matrix, xfail: Mapping[tuple[str, str, Role], str] | None = None) -> list[Any]:
    """pytest params (method, path, role, allowed), one per cell; ``xfail`` marks cells where the code
    is known to disagree with the table (strict: the mark must go when the code is fixed)."""
    xfail = dict(xfail or {})
    params = []
    for (method, path), row in matrix.items():
        for role, allowed in row.items():
            reason = xfail.pop((method, path, role), None)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(
                pytest.param(method, path, role, allowed, marks=marks, id=f"{method} {path} {role.value}")
            )
    if xfail:
        raise ValueError(f"xfail cells not in the table: {sorted(xfail)}")
    return params


def allowed_roles(matrix: Matrix, operation: Operation) -> list[Role]:
    return [role for role, ok in matrix[operation].items() if ok]


def missing_rows(
    matrix: Matrix, documented: Iterable[Operation], public: Iterable[Operation] = ()
) -> set[Operation]:
    """Documented operations with no row (and not listed as public)."""
    return set(documented) - set(matrix) - set(public)


class AccessMatrixWalk:
    """The walk of one service's table; a test module subclasses it as ``TestAccessMatrix`` and sets:

    - ``app_fixture``: the name of the fixture of the service's app (``registry_app`` ...);
    - ``matrix``: its table (:func:`parse`); ``public``: the operations that need no token;
    - ``xfail``: cells where the code disagrees with the table (each a bug report, gone with the fix);
    - ``unauthenticated``: a path that a request without a token must be refused at (401 ``missing_token``).
    """

    app_fixture: ClassVar[str]
    matrix: ClassVar[Matrix]
    public: ClassVar[frozenset[Operation]] = HEALTH_CHECKS
    xfail: ClassVar[Mapping[tuple[str, str, Role], str]] = {}
    unauthenticated: ClassVar[str]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if metafunc.definition.name == "test_cell":
            metafunc.parametrize(("method", "path", "role", "allowed"), cells(self.matrix, self.xfail))

    @pytest.fixture(scope="class")
    @classmethod
    def app(cls, request: pytest.FixtureRequest) -> FastAPI:
        app: FastAPI = request.getfixturevalue(cls.app_fixture)
        return app

    @pytest.fixture(scope="class")
    @classmethod
    async def walker(cls, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        """One client for the whole walk; nothing the walk sends can succeed, and all is rolled back."""
        async with rolled_back_client(app) as client:
            yield client

    def test_every_endpoint_has_a_row(self, app: FastAPI) -> None:
        documented = operations(app)
        assert missing_rows(self.matrix, documented, self.public) == set()
        assert set(self.matrix) - documented == set()  # no row for an endpoint that is gone

    async def test_cell(
        self, walker: httpx.AsyncClient, tokens: Tokens, method: str, path: str, role: Role, allowed: bool
    ) -> None:
        response = await call(walker, method, concrete(path), caller(tokens, role))
        assert_cell(response, allowed, (method, path, role.value))

    async def test_no_token_is_401(self, walker: httpx.AsyncClient) -> None:
        response = await walker.get(self.unauthenticated)
        assert (response.status_code, response.json()["code"]) == (401, "missing_token")
