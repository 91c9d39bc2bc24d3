"""City-platform bulk upserts, the same requirements checked on every service (issue 7):

- each record gets its own outcome (created / updated / unchanged / rejected with a reason code);
- one bad record never loses the good ones, and a rejected update never half-writes itself;
- replaying a batch changes nothing (no version, change-feed entry or audit record);
- a record outside the platform's city is rejected (平潭 is a city of its own, not 福州's);
- 1,000 records a request are taken, 1,001 are refused with a problem (422 ``batch_too_large``).

Every endpoint is driven by the one client function of tests/cross_service/bulk_client.py and answers in one
shape (libs/common/bulk.py). The services' own suites test their details
(tests/registry/institutions/test_bulk_upsert.py, tests/contracts/agreements/test_bulk.py,
tests/homecare/sync/test_bulk.py); the statement count of a 1,000-institution batch is asserted by the
registry's
``test_a_thousand_records_take_a_handful_of_statements`` and measured by tests/cross_service/bench_bulk.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from libs.common.auth import Role
from libs.common.database import Database
from libs.common.models import AuditRecord, ChangeRecord
from libs.common.testing import Tokens, rolled_back_client
from tests.cross_service.bulk_client import BulkRefused, push
from tests.cross_service.conftest import Live
from tests.cross_service.data import CONTRACTS, HOMECARE, REGISTRY, Writer, institution_body, unique

SOURCE = "sync-bulk"
XIAMEN, FUZHOU, PINGTAN = "350200", "350100", "350128"


@dataclass(frozen=True)
class Outcome:
    status: str  # created | updated | unchanged | rejected
    reason: str | None  # the stable code of a rejection
    entity_id: str | None


class Endpoint(Protocol):
    """One service's bulk endpoint: what a valid, an invalid and a changed record look like there (the
    request and the answer are one shape for all: tests/cross_service/bulk_client.py)."""

    name: str
    service: str
    path: str
    entity_path: str

    async def record(self, region_code: str) -> dict[str, Any]:
        """A valid record in ``region_code`` (its parties made first where it needs some)."""

    def invalid_change(self) -> dict[str, Any]:
        """A field value the service refuses."""

    def valid_change(self) -> tuple[str, Any]:
        """A field and a new, valid value for it."""


@dataclass
class Institutions:
    w: Writer
    name: str = "registry-institutions"
    service: str = "registry"
    path: str = f"{REGISTRY}/institutions/bulk"
    entity_path: str = f"{REGISTRY}/institutions"

    async def record(self, region_code: str) -> dict[str, Any]:
        return {"external_id": unique("I-"), **institution_body(region_code)}

    def invalid_change(self) -> dict[str, Any]:
        return {"kind": "no_such_kind"}

    def valid_change(self) -> tuple[str, Any]:
        return "beds_elderly_care", 77


@dataclass
class Agreements:
    w: Writer
    name: str = "contracts-agreements"
    service: str = "contracts"
    path: str = f"{CONTRACTS}/agreements/bulk"
    entity_path: str = f"{CONTRACTS}/agreements"

    async def record(self, region_code: str) -> dict[str, Any]:
        medical = await self.w.institution(region_code, "medical")
        elderly = await self.w.institution(region_code)
        body = self.w.agreement_body(medical, elderly)
        return {"external_id": unique("A-"), **body}

    def invalid_change(self) -> dict[str, Any]:
        return {"fee_payer": "nobody"}

    def valid_change(self) -> tuple[str, Any]:
        return "visit_count", 5


@dataclass
class Recipients:
    w: Writer
    name: str = "homecare-recipients"
    service: str = "homecare"
    path: str = f"{HOMECARE}/recipients/bulk"
    entity_path: str = f"{HOMECARE}/recipients"

    async def record(self, region_code: str) -> dict[str, Any]:
        return {"external_id": unique("R-"), **self.w.recipient_body(region_code)}

    def invalid_change(self) -> dict[str, Any]:
        return {"phone": "12345"}

    def valid_change(self) -> tuple[str, Any]:
        return "disability_level", 4


ENDPOINTS: dict[str, Callable[[Writer], Endpoint]] = {
    "registry-institutions": Institutions,
    "contracts-agreements": Agreements,
    "homecare-recipients": Recipients,
}


@pytest.fixture
async def rolled_back(
    registry_app: FastAPI, contracts_app: FastAPI, homecare_app: FastAPI, gateway_app: FastAPI, tokens: Tokens
) -> AsyncIterator[Live]:
    """Clients whose writes are rolled back at the end (the contracts and homecare apps reach the
    registry inside its rolled-back transaction, so they see the parties made here)."""
    async with (
        rolled_back_client(registry_app, base_url="http://gateway") as registry,
        rolled_back_client(contracts_app) as contracts,
        rolled_back_client(homecare_app) as homecare,
    ):
        yield Live(registry, contracts, homecare, gateway=registry, tokens=tokens)


@pytest.fixture(params=list(ENDPOINTS))
def endpoint(request: pytest.FixtureRequest, rolled_back: Live) -> Endpoint:
    endpoint: Endpoint = ENDPOINTS[request.param](Writer(rolled_back))
    return endpoint


def _platform(tokens: Tokens, city: str = XIAMEN) -> dict[str, str]:
    return tokens.headers(Role.city_platform, city, sub=f"client:sync-bulk-{city}")


def _client(live: Live, endpoint: Endpoint) -> httpx.AsyncClient:
    client: httpx.AsyncClient = getattr(live, endpoint.service)
    return client


async def _push(
    live: Live, endpoint: Endpoint, records: list[dict[str, Any]], city: str = XIAMEN
) -> list[Outcome]:
    answer = await push(
        _client(live, endpoint),
        endpoint.path,
        records,
        source_system=SOURCE,
        headers=_platform(live.tokens, city),
    )
    assert sum(answer.counts.model_dump().values()) == len(answer.results) == len(records)
    return [Outcome(r.outcome.value, r.code, str(r.id) if r.id is not None else None) for r in answer.results]


async def _footprint(app: FastAPI) -> tuple[int, int]:
    """(change-feed rows, audit rows) of a service, as its rolled-back test transaction sees them."""
    database: Database = app.state.database
    async with database.session() as session:
        change_rows = await session.scalar(select(func.count()).select_from(ChangeRecord))
        audit_rows = await session.scalar(select(func.count()).select_from(AuditRecord))
    return int(change_rows or 0), int(audit_rows or 0)


def _app(request: pytest.FixtureRequest, endpoint: Endpoint) -> FastAPI:
    app: FastAPI = request.getfixturevalue(f"{endpoint.service}_app")
    return app


async def test_each_record_gets_its_outcome_and_bad_ones_never_lose_the_good_ones(
    endpoint: Endpoint, rolled_back: Live
) -> None:
    good = [await endpoint.record("350206"), await endpoint.record("350203")]
    invalid = {**await endpoint.record("350206"), **endpoint.invalid_change()}
    elsewhere = await endpoint.record("350104")  # 福州
    outcomes = await _push(rolled_back, endpoint, [good[0], invalid, good[1], elsewhere])
    assert [o.status for o in outcomes] == ["created", "rejected", "created", "rejected"]
    assert all(o.reason for o in outcomes if o.status == "rejected")
    assert outcomes[1].entity_id is None
    for outcome in (outcomes[0], outcomes[2]):
        response = await _client(rolled_back, endpoint).get(
            f"{endpoint.entity_path}/{outcome.entity_id}", headers=_platform(rolled_back.tokens)
        )
        assert response.status_code == 200, response.text


async def test_a_rejected_update_never_half_writes_itself(
    endpoint: Endpoint, rolled_back: Live, request: pytest.FixtureRequest
) -> None:
    record = await endpoint.record("350206")
    [created] = await _push(rolled_back, endpoint, [record])
    url = f"{endpoint.entity_path}/{created.entity_id}"
    before = (await _client(rolled_back, endpoint).get(url, headers=_platform(rolled_back.tokens))).json()
    footprint = await _footprint(_app(request, endpoint))

    field, value = endpoint.valid_change()
    [outcome] = await _push(rolled_back, endpoint, [{**record, field: value, **endpoint.invalid_change()}])

    assert (outcome.status, outcome.entity_id) == ("rejected", None)
    after = (await _client(rolled_back, endpoint).get(url, headers=_platform(rolled_back.tokens))).json()
    assert (after["version"], after[field]) == (before["version"], before[field])
    assert await _footprint(_app(request, endpoint)) == footprint


async def test_replaying_a_batch_changes_nothing(
    endpoint: Endpoint, rolled_back: Live, request: pytest.FixtureRequest
) -> None:
    records = [await endpoint.record("350206") for _ in range(3)]
    first = await _push(rolled_back, endpoint, records)
    assert {o.status for o in first} == {"created"}
    footprint = await _footprint(_app(request, endpoint))
    replay = await _push(rolled_back, endpoint, records)
    assert [(o.status, o.entity_id) for o in replay] == [("unchanged", o.entity_id) for o in first]
    assert await _footprint(_app(request, endpoint)) == footprint

    field, value = endpoint.valid_change()
    edited = await _push(rolled_back, endpoint, [{**records[0], field: value}, *records[1:]])
    assert [o.status for o in edited] == ["updated", "unchanged", "unchanged"]


async def test_records_outside_the_platforms_city_are_rejected_and_pingtan_is_its_own_city(
    endpoint: Endpoint, rolled_back: Live
) -> None:
    in_pingtan = await endpoint.record(PINGTAN)
    in_fuzhou = await endpoint.record("350104")
    by_fuzhou = await _push(rolled_back, endpoint, [in_pingtan, in_fuzhou], city=FUZHOU)
    assert [o.status for o in by_fuzhou] == ["rejected", "created"]
    assert by_fuzhou[0].reason in {"out_of_scope", "out_of_city"}
    by_pingtan = await _push(
        rolled_back, endpoint, [in_pingtan, await endpoint.record("350104")], city=PINGTAN
    )
    assert [o.status for o in by_pingtan] == ["created", "rejected"]


async def test_a_thousand_records_are_taken_and_a_thousand_and_one_refused(
    endpoint: Endpoint, rolled_back: Live
) -> None:
    """Records that fail validation cost no database work: the limit itself is what is measured here."""
    junk = [{"external_id": f"J-{i}"} for i in range(1001)]
    client = _client(rolled_back, endpoint)
    headers = _platform(rolled_back.tokens)
    taken = await push(client, endpoint.path, junk[:1000], source_system=SOURCE, headers=headers)
    assert taken.counts.rejected == 1000
    with pytest.raises(BulkRefused) as refused:
        await push(client, endpoint.path, junk, source_system=SOURCE, headers=headers)
    assert refused.value.status == 422
    assert refused.value.problem["code"] == "batch_too_large"
