"""The demo nurses under load: orders set up for them through the API, the nurse app's visit (depart,
check-in, start, visit record, check-out, complete) on a bad network, and the check afterwards that every
acknowledged visit record exists exactly once.

The app sends each write with an ``Idempotency-Key`` and its own ``client_event_id`` / ``record_id``.
A phone that lost the answer sends the same write again with the same key; the app's offline queue also
sends a visit record a second time without the key. Neither may create or apply anything twice.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from demo import DEMO_PASSWORD
from demo.gateway import PLATFORM_CLIENT_ID, PLATFORM_CLIENT_SECRET
from services.homecare.catalog import templates

HC = "/api/v1/homecare"
ITEMS = ["HC01", "HC02"]
TEMPLATES = templates.load().current_version  # low risk, no 医嘱: the provider's admin may assess
SETUP_CONCURRENCY = 3  # the admins' set-up requests in flight at once
RETRIES = 5  # a write answered 5xx or lost in transit is sent again with its key, at most this often


async def login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    """A demo account's bearer header (the seed's password)."""
    form = {"grant_type": "password", "username": username, "password": DEMO_PASSWORD}
    response = await client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def city_platform(client: httpx.AsyncClient) -> dict[str, str]:
    """The demo city platform (厦门) signed in with its client credentials."""
    form = {
        "grant_type": "client_credentials",
        "client_id": PLATFORM_CLIENT_ID,
        "client_secret": PLATFORM_CLIENT_SECRET,
    }
    response = await client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def me(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


@dataclass
class Nurse:
    """A demo nurse's phone (her login), her provider's admin, and the orders assigned to her."""

    username: str
    headers: dict[str, str]
    admin: dict[str, str]
    practitioner_id: str
    institution_id: str
    orders: list[str] = field(default_factory=list)  # assigned, not yet taken up by a client


@dataclass
class AckedRecord:
    id: str  # the server's id of the record (the change feed's entity_id)
    record_id: str
    revisions: set[str] = field(default_factory=set)  # client_updated_at values acknowledged


@dataclass
class VisitLedger:
    """What the nurses' phones sent and what the platform acknowledged."""

    statuses: Counter[int] = field(default_factory=Counter)
    requests: int = 0
    transport_errors: int = 0
    unexpected: list[str] = field(default_factory=list)  # a 4xx the flow should not meet
    records: dict[str, AckedRecord] = field(default_factory=dict)  # order id → acknowledged record
    completed: set[str] = field(default_factory=set)  # order ids whose `complete` was acknowledged
    visits_started: int = 0
    latencies: list[float] = field(default_factory=list)
    replays: int = 0  # answers marked Idempotent-Replayed

    async def send(
        self, client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response | None:
        """POST once; tally the outcome."""
        self.requests += 1
        started = asyncio.get_running_loop().time()
        try:
            response = await client.post(path, json=body, headers=headers)
        except httpx.HTTPError:
            self.transport_errors += 1
            return None
        self.latencies.append(asyncio.get_running_loop().time() - started)
        self.statuses[response.status_code] += 1
        if response.headers.get("idempotent-replayed") == "true":
            self.replays += 1
        if 400 <= response.status_code < 500:
            self.unexpected.append(f"{path} {response.status_code} {response.text[:300]}")
        return response

    async def write(
        self,
        client: httpx.AsyncClient,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
        *,
        key: str | None,
        resend: bool,
    ) -> list[httpx.Response]:
        """The app's write: sent until it gets an answer below 500 (same key each time); when ``resend``,
        sent once more after the answer, as a phone that lost it does. Returns the answers below 500."""
        sent = {**headers, "If-Match": "*", **({"Idempotency-Key": key} if key else {})}
        answers: list[httpx.Response] = []
        for _ in range(RETRIES):
            response = await self.send(client, path, body, sent)
            if response is not None and response.status_code < 500:
                answers.append(response)
                break
        if answers and resend:
            again = await self.send(client, path, body, sent)
            if again is not None and again.status_code < 500:
                answers.append(again)
        return answers


def _event(at: datetime) -> dict[str, Any]:
    return {"client_event_id": str(uuid.uuid4()), "client_at": at.isoformat()}


def _located(at: datetime, home: tuple[float, float]) -> dict[str, Any]:
    return {
        **_event(at),
        "latitude": home[0],
        "longitude": home[1],
        "accuracy_m": 10.0,
        "is_mock_location": False,
    }


def record_body(record_id: str, created: datetime, updated: datetime, pulse: int) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "client_created_at": created.isoformat(),
        "client_updated_at": updated.isoformat(),
        "items_done": ITEMS,
        "vital_signs": {**templates.SAMPLE_VITAL_SIGNS, "pulse": pulse},
        "fields": templates.sample_fields(TEMPLATES, ITEMS),
        "consumables": [{"name": "一次性手套", "qty": 2, "unit_price_yuan": "1.50"}],
        "notes": "生命体征平稳，血糖正常",
    }


async def visit(
    client: httpx.AsyncClient, ledger: VisitLedger, nurse: Nurse, order_id: str, rng: random.Random
) -> None:
    """One visit from the nurse's phone, on a bad network."""
    ledger.visits_started += 1
    home = (24.5068, 118.1503)
    base = f"{HC}/orders/{order_id}"

    def now() -> datetime:
        return datetime.now(UTC)

    for action, body in (
        ("depart", _event(now())),
        ("check-in", _located(now(), home)),
        ("start", _event(now())),
    ):
        await ledger.write(
            client, f"{base}/{action}", body, nurse.headers, key=uuid.uuid4().hex, resend=rng.random() < 0.3
        )
    record_id = str(uuid.uuid4())
    created = now()
    revisions = [record_body(record_id, created, created, 76)]
    if rng.random() < 0.3:  # the nurse corrects the record before leaving
        revisions.append(record_body(record_id, created, created + timedelta(seconds=1), 80))
    for body in revisions:
        key = uuid.uuid4().hex
        answers = await ledger.write(
            client, f"{base}/visit-record", body, nurse.headers, key=key, resend=rng.random() < 0.3
        )
        if rng.random() < 0.25:  # the offline queue sends it once more, without the key
            answers += await ledger.write(
                client, f"{base}/visit-record", body, nurse.headers, key=None, resend=False
            )
        for answer in answers:
            if answer.status_code in (200, 201):
                acked = answer.json()
                entry = ledger.records.setdefault(order_id, AckedRecord(acked["id"], acked["record_id"]))
                assert entry.id == acked["id"], (entry, acked)
                entry.revisions.add(body["client_updated_at"])
    await ledger.write(
        client, f"{base}/check-out", _located(now(), home), nurse.headers, key=uuid.uuid4().hex, resend=False
    )
    answers = await ledger.write(
        client,
        f"{base}/complete",
        _event(now()),
        nurse.headers,
        key=uuid.uuid4().hex,
        resend=rng.random() < 0.3,
    )
    if any(a.status_code == 200 for a in answers):
        ledger.completed.add(order_id)


async def prepare(
    client: httpx.AsyncClient,
    platform: dict[str, str],
    nurses: list[Nurse],
    recipients: dict[str, str],
    *,
    per_nurse: int,
) -> None:
    """Orders for each nurse, placed by the city platform in one bulk, then assessed, accepted and
    assigned by her provider's admin (windows of one nurse never overlap: double booking is refused)."""
    # tomorrow: a past window is refused, and the demo data books 林晓燕 today
    day = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    run = uuid.uuid4().hex[:6]
    records = [
        {
            "external_id": f"load-{run}-{n}-{i}",
            "institution_id": nurse.institution_id,
            "recipient_id": recipients[nurse.institution_id],
            "item_codes": ITEMS,
            "window_start": (day + timedelta(minutes=20 * i)).isoformat(),
            "window_end": (day + timedelta(minutes=20 * i + 15)).isoformat(),
        }
        for n, nurse in enumerate(nurses)
        for i in range(per_nurse)
    ]
    response = await client.post(
        f"{HC}/orders/bulk", json={"source_system": "load-setup", "records": records}, headers=platform
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    refused = [r for r in results if r["outcome"] != "created"]
    assert not refused, refused[:3]
    for n, nurse in enumerate(nurses):
        nurse.orders = [r["id"] for r in results[n * per_nurse : (n + 1) * per_nurse]]

    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def ready(nurse: Nurse, order_id: str) -> None:
        async with gate:
            for action, body in (
                ("assess", {"service_group": "chronic"}),
                ("accept", None),
                ("assign", {"nurse_practitioner_id": nurse.practitioner_id}),
            ):
                step = await client.post(
                    f"{HC}/orders/{order_id}/{action}", json=body, headers={**nurse.admin, "If-Match": "*"}
                )
                assert step.status_code == 200, (action, step.text)

    await asyncio.gather(*(ready(nurse, order_id) for nurse in nurses for order_id in nurse.orders))


async def feed_counts(client: httpx.AsyncClient, headers: dict[str, str]) -> Counter[str]:
    """How many change-feed entries each visit record has (each applied write makes one)."""
    counts: Counter[str] = Counter()
    after: str | None = None
    while True:
        params: dict[str, str | int] = {
            "entity_types": "visit_record",
            "limit": 1000,
            **({"after": after} if after else {}),
        }
        page = await client.get(f"{HC}/changes", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        counts.update(item["entity_id"] for item in body["items"])
        after = body["next_cursor"]
        if not body["has_more"]:
            return counts


async def check(
    client: httpx.AsyncClient, ledger: VisitLedger, viewer: dict[str, str], platform: dict[str, str]
) -> tuple[list[str], Counter[str]]:
    """Every acknowledged record, read back: (problems found, feed entries per record)."""
    problems: list[str] = []
    for order_id, acked in ledger.records.items():
        read = await client.get(f"{HC}/orders/{order_id}/visit-record", headers=viewer)
        if read.status_code != 200:
            problems.append(f"{order_id}: acknowledged record not found ({read.status_code})")
            continue
        stored = read.json()
        latest = max(acked.revisions, key=datetime.fromisoformat)
        if stored["id"] != acked.id or stored["record_id"] != acked.record_id:
            problems.append(f"{order_id}: another record {stored['record_id']} than {acked.record_id}")
        if datetime.fromisoformat(stored["client_updated_at"]) != datetime.fromisoformat(latest):
            problems.append(f"{order_id}: latest acknowledged revision lost")
        if stored["version"] != len(acked.revisions):  # a replay applied again would bump it
            problems.append(f"{order_id}: version {stored['version']} for {len(acked.revisions)} revisions")
    for order_id in ledger.completed:
        order = await client.get(f"{HC}/orders/{order_id}", headers=viewer)
        if order.status_code != 200 or order.json()["status"] != "completed":
            problems.append(f"{order_id}: acknowledged completion not found")
    return problems, await feed_counts(client, platform)
