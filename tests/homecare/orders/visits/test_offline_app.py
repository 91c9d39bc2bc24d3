"""The nurse app works offline: it queues writes and flushes them later, shuffled and duplicated."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.homecare.world import HC, Crew, World, crew, located, record_body, to_status

RETRY_LATER = {"illegal_transition", "visit_record_missing", "visit_record_closed"}
DROP = {"stale_visit_record", "stale_client_event"}


@dataclass
class QueuedWrite:
    path: str
    body: dict[str, Any]
    idempotency_key: str = field(default_factory=lambda: uuid.uuid4().hex)


class OfflineNurseApp:
    """Keeps writes while offline; on flush sends them in random order, some twice, keeping those
    the server says are not consistent yet (409 illegal transition) for the next flush and dropping
    those it says are superseded (stale)."""

    def __init__(self, client: httpx.AsyncClient, headers: dict[str, str], seed: int) -> None:
        self.client = client
        self.headers = headers
        self.queue: list[QueuedWrite] = []
        self.rng = random.Random(seed)
        self.responses: list[httpx.Response] = []

    def step(self, order_id: str, action: str, body: dict[str, Any]) -> None:
        self.queue.append(QueuedWrite(f"{HC}/orders/{order_id}/{action}", body))

    def record(self, order_id: str, body: dict[str, Any]) -> None:
        self.queue.append(QueuedWrite(f"{HC}/orders/{order_id}/visit-record", body))

    async def flush(self, *, with_keys: bool = True) -> None:
        batch = self.queue + self.rng.sample(self.queue, k=len(self.queue) // 2)  # duplicates
        self.rng.shuffle(batch)
        keep: list[QueuedWrite] = []
        for write in batch:
            headers = {**self.headers, "If-Match": "*"}
            if with_keys:
                headers["Idempotency-Key"] = write.idempotency_key
            response = await self.client.post(write.path, json=write.body, headers=headers)
            self.responses.append(response)
            if response.status_code in (200, 201):
                continue
            code = response.json()["code"]
            assert response.status_code in (409, 412), response.text
            assert "current" in response.json()["extra"]
            if code in RETRY_LATER and write not in keep:
                keep.append(write)
            else:
                assert code in DROP | RETRY_LATER, response.text
        self.queue = keep

    async def sync(self, *, with_keys: bool = True, rounds: int = 12) -> None:
        for _ in range(rounds):
            if not self.queue:
                return
            await self.flush(with_keys=with_keys)
        raise AssertionError(f"still queued after {rounds} flushes: {[w.path for w in self.queue]}")


async def _visit_offline(
    world: World, c: Crew, order: dict[str, Any], app: OfflineNurseApp
) -> dict[str, Any]:
    t0 = datetime.now(UTC) - timedelta(hours=3)
    oid = order["id"]
    app.step(oid, "depart", {"client_event_id": str(uuid.uuid4()), "client_at": t0.isoformat()})
    check_in = located(at=t0 + timedelta(minutes=20))
    app.step(oid, "check-in", check_in)
    app.step(
        oid,
        "start",
        {"client_event_id": str(uuid.uuid4()), "client_at": (t0 + timedelta(minutes=22)).isoformat()},
    )
    first = record_body(order, client_created_at=(t0 + timedelta(minutes=30)).isoformat())
    first["client_updated_at"] = first["client_created_at"]
    revised = {
        **first,
        "client_updated_at": (t0 + timedelta(minutes=50)).isoformat(),
        "vital_signs": {**first["vital_signs"], "pulse": 80},
        "consumables": [{"name": "敷料", "qty": 3, "unit_price_yuan": "4.20"}],
    }
    app.record(oid, first)
    app.record(oid, revised)
    app.step(oid, "check-out", located(at=t0 + timedelta(minutes=55)))
    app.step(
        oid,
        "complete",
        {"client_event_id": str(uuid.uuid4()), "client_at": (t0 + timedelta(minutes=56)).isoformat()},
    )
    return {**revised, "checked_in_at": check_in["client_at"]}


async def test_shuffled_duplicated_late_writes_end_in_one_consistent_visit(world: World) -> None:
    c = await crew(world)
    order = await world.order(
        c.provider, c.recipient["id"], start=datetime.now(UTC) - timedelta(hours=4), hours=6
    )
    await to_status(world, c, order, "assigned")
    app = OfflineNurseApp(world.client, world.staff(c.provider, c.nurse), seed=7)
    revised = await _visit_offline(world, c, order, app)
    await app.sync()

    final = (await world.client.get(f"{HC}/orders/{order['id']}", headers=world.county())).json()
    assert final["status"] == "completed"
    # the app's clock, three hours before the write arrived
    assert datetime.fromisoformat(final["checked_in_at"]) == datetime.fromisoformat(revised["checked_in_at"])
    record = (
        await world.client.get(f"{HC}/orders/{order['id']}/visit-record", headers=world.county())
    ).json()
    assert record["record_id"] == revised["record_id"]
    assert record["vital_signs"]["pulse"] == 80
    # 80 item + 50 visit fee + 3 × 4.20 consumables, from the latest record
    assert final["fees"]["total_yuan"] == "142.60"
    assert final["flagged"] is False


async def test_replays_without_idempotency_key_never_duplicate(world: World) -> None:
    c = await crew(world)
    order = await world.order(
        c.provider, c.recipient["id"], start=datetime.now(UTC) - timedelta(hours=4), hours=6
    )
    await to_status(world, c, order, "assigned")
    app = OfflineNurseApp(world.client, world.staff(c.provider, c.nurse), seed=11)
    await _visit_offline(world, c, order, app)
    await app.sync(with_keys=False)
    final = (await world.client.get(f"{HC}/orders/{order['id']}", headers=world.county())).json()
    assert final["status"] == "completed"
    replayed = [r for r in app.responses if r.headers.get("idempotent-replayed") == "true"]
    assert replayed  # duplicates were answered from what was stored, not applied again


async def test_a_replayed_transition_answers_the_current_state(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "en_route")
    check_in = located()
    nurse = world.staff(c.provider, c.nurse)
    first = await world.act(order["id"], "check-in", nurse, check_in)
    assert first.status_code == 200
    await world.act(order["id"], "start", nurse, {})
    again = await world.act(order["id"], "check-in", nurse, check_in, if_match='"1"')
    assert again.status_code == 200, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["status"] == "in_service"


async def test_an_event_older_than_what_the_order_recorded_is_stale(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "assigned")
    now = datetime.now(UTC)
    nurse = world.staff(c.provider, c.nurse)
    depart = {"client_event_id": str(uuid.uuid4()), "client_at": now.isoformat()}
    assert (await world.act(order["id"], "depart", nurse, depart)).status_code == 200
    late = await world.act(order["id"], "check-in", nurse, located(at=now - timedelta(minutes=30)))
    assert late.status_code == 409
    assert late.json()["code"] == "stale_client_event"
    assert late.json()["extra"]["current"]["status"] == "en_route"


async def test_a_client_clock_far_ahead_is_refused(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "assigned")
    body = {
        "client_event_id": str(uuid.uuid4()),
        "client_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
    }
    response = await world.act(order["id"], "depart", world.staff(c.provider, c.nurse), body)
    assert response.status_code == 422
    assert response.json()["code"] == "client_time_in_future"


async def test_a_stale_visit_record_gets_409_with_the_current_state(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    nurse = world.staff(c.provider, c.nurse)
    now = datetime.now(UTC)
    newer = record_body(
        order, client_updated_at=now.isoformat(), client_created_at=(now - timedelta(minutes=5)).isoformat()
    )
    created = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=newer, headers=nurse)
    assert created.status_code == 201
    same = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=newer, headers=nurse)
    assert same.status_code == 200
    assert same.json()["version"] == 1
    older = {**newer, "client_updated_at": (now - timedelta(minutes=1)).isoformat()}
    stale = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=older, headers=nurse)
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_visit_record"
    assert stale.json()["extra"]["current"]["record_id"] == newer["record_id"]
    other = record_body(order)
    second = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=other, headers=nurse)
    assert second.status_code == 409
    assert second.json()["code"] == "visit_record_exists"
    wrong_version = await world.client.post(
        f"{HC}/orders/{order['id']}/visit-record",
        json={**newer, "client_updated_at": (now + timedelta(seconds=30)).isoformat()},
        headers={**nurse, "If-Match": '"9"'},
    )
    assert wrong_version.status_code == 412
    assert wrong_version.json()["extra"]["current"]["version"] == 1


async def test_implausible_vital_signs_are_refused_naming_the_field(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    nurse = world.staff(c.provider, c.nurse)
    for field_name, value in (
        ("pulse", 400),
        ("spo2", 101),
        ("temperature_c", "45.0"),
        ("blood_glucose_mmol", "0.2"),
    ):
        body = record_body(order)
        body["vital_signs"] = {field_name: value}
        response = await world.client.post(
            f"{HC}/orders/{order['id']}/visit-record", json=body, headers=nurse
        )
        assert response.status_code == 422, (field_name, response.text)
        assert response.json()["errors"][0]["field"] == f"body.vital_signs.{field_name}"
    body = record_body(order)
    body["vital_signs"] = {"bp_systolic": 80, "bp_diastolic": 120}
    response = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=body, headers=nurse)
    assert response.status_code == 422


async def test_items_done_must_be_items_of_the_order(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    body = record_body(order, items_done=["HC01", "HC30"])
    response = await world.client.post(
        f"{HC}/orders/{order['id']}/visit-record", json=body, headers=world.staff(c.provider, c.nurse)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "items_not_in_order"


async def test_my_assignments_are_todays_and_compact(world: World) -> None:
    c = await crew(world)
    today = await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(minutes=30))
    far = await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=6))
    await to_status(world, c, today, "assigned")
    await to_status(world, c, far, "assigned")
    response = await world.client.get(f"{HC}/my/assignments?days=2", headers=world.staff(c.provider, c.nurse))
    assert response.status_code == 200
    items = response.json()
    assert [a["order_id"] for a in items] == [today["id"]]
    assignment = items[0]
    assert assignment["recipient_name"] == "陈*婆"
    assert assignment["district"] == "湖里区"
    assert "address" not in assignment
    assert len(response.content) < 1000
    week = await world.client.get(f"{HC}/my/assignments?days=7", headers=world.staff(c.provider, c.nurse))
    assert len(week.json()) == 2
    other = await world.client.get(f"{HC}/my/assignments", headers=world.staff(c.provider, c.junior_nurse))
    assert other.json() == []


async def test_a_visit_record_update_honours_if_match_as_every_other_write(world: World) -> None:
    """RFC 9110 If-Match: a list of tags, or a weak tag, that names the current version lets the update
    through (as on every other write of the platform); a list that does not name it answers 412."""
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    nurse = world.staff(c.provider, c.nurse)
    now = datetime.now(UTC)
    first = record_body(
        order, client_updated_at=now.isoformat(), client_created_at=(now - timedelta(minutes=5)).isoformat()
    )
    created = await world.client.post(f"{HC}/orders/{order['id']}/visit-record", json=first, headers=nurse)
    assert created.status_code == 201
    url = f"{HC}/orders/{order['id']}/visit-record"
    for seconds, if_match in ((10, '"7", "1"'), (20, 'W/"2"')):
        later = {**first, "client_updated_at": (now + timedelta(seconds=seconds)).isoformat()}
        updated = await world.client.post(url, json=later, headers={**nurse, "If-Match": if_match})
        assert updated.status_code == 200, (if_match, updated.text)
    refused = await world.client.post(
        url,
        json={**first, "client_updated_at": (now + timedelta(seconds=30)).isoformat()},
        headers={**nurse, "If-Match": '"1", "2"'},
    )
    assert refused.status_code == 412
    assert refused.json()["extra"]["current"]["version"] == 3
