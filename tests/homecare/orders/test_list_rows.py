"""The order list answers from rows (issue 16; services/homecare/orders/listing.py): the bytes the model
path sends, in one statement.

The reference is the path the list had before: the page loaded as ORM objects with their items, recipients
and ratings (``list_reference.list_``: out of the service, no route calls it), the recipients' names read
by ``service.recipient_names`` (the person index, one call), each order turned into ``OrderSummary`` by
``list_reference.to_summary`` (the name masked) and
``Page[OrderSummary]`` serialised as FastAPI serialises a ``response_model``. For every reading role and
every filter, with the person index up and down, and page by page, the answer's bytes are the reference's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import event, update

from libs.common.auth import Principal, Role
from libs.common.pagination import Page, PageParams
from libs.common.row_pages import serialised_keys
from services.homecare.orders import service
from services.homecare.orders.models import Order, OrderStatus
from services.homecare.orders.schemas import OrderSummary
from services.homecare.recipients.models import Recipient
from tests.homecare.orders import list_reference
from tests.homecare.world import HC, HULI, SIMING, XIAMEN, Crew, World, crew, id_number, soon, to_status

PAGE = TypeAdapter(Page[OrderSummary])
ORDERS = f"{HC}/orders"


async def _landscape(world: World, app: FastAPI) -> dict[str, Any]:
    """Orders that differ in every way the list shows: several items (listed by code), a completed one
    (fees fixed with consumables), a cancelled one, flagged ones (one reviewed), a nurse assigned, a
    recipient whose name the person index holds, one not linked yet that keeps its own copy, one whose copy
    is incomplete (no name shown), and a provider in 思明."""
    c = await crew(world)
    linked = c.recipient["id"]
    unlinked = (await world.recipient(c.provider))["id"]
    incomplete = (await world.recipient(c.provider))["id"]
    first = await world.order(c.provider, linked, items=["HC20", "HC01", "HC05"])
    done = await world.order(c.provider, linked, items=["HC01"])
    await to_status(world, c, done, "completed")
    assigned = await world.order(c.provider, unlinked, items=["HC05", "HC01"], start=soon(6))
    await to_status(world, c, assigned, "assigned")
    cancelled = await world.order(c.provider, incomplete)
    gone = await world.act(cancelled["id"], "cancel", world.admin(c.provider), {"reason": "家属取消"})
    assert gone.status_code == 200, gone.text
    flagged = await world.order(c.provider, unlinked)
    siming = await crew_in(world, SIMING)
    await world.order(siming.provider, siming.recipient["id"], items=["HC01", "HC20"])
    cipher = app.state.cipher
    async with app.state.database.session() as session:
        # what the city bulk sync wrote before recipients were linked to the person index
        await session.execute(
            update(Recipient)
            .where(Recipient.id == uuid.UUID(unlinked))
            .values(
                person_id=None, name_enc=cipher.encrypt("林阿公"), id_number_enc=cipher.encrypt(id_number())
            )
        )
        await session.execute(
            update(Recipient)
            .where(Recipient.id == uuid.UUID(incomplete))
            .values(person_id=None, name_enc=cipher.encrypt("黄阿婆"), id_number_enc=None)
        )
        await session.execute(
            update(Order)
            .where(Order.id == uuid.UUID(flagged["id"]))
            .values(flagged=True, flag_reasons=["far_from_home", "mock_location"])
        )
        await session.execute(
            update(Order).where(Order.id == uuid.UUID(first["id"])).values(flagged=True, flag_reasons=None)
        )
        await session.commit()
    return {"crew": c, "linked": linked, "unlinked": unlinked, "first": first, "done": done}


async def crew_in(world: World, region: str) -> Crew:
    provider = await world.provider(region_code=region)
    recipient = await world.recipient(provider, region_code=region, id_number=id_number(region))
    return Crew(provider, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), recipient)


def _readers(world: World, c: Crew) -> Iterator[tuple[Principal, dict[str, str]]]:
    p = c.provider
    yield (
        Principal(sub="p", role=Role.province_admin, region_code="350000"),
        world.tokens.headers(Role.province_admin, "350000", sub="p"),
    )
    yield Principal(sub="c", role=Role.city_admin, region_code=XIAMEN), world.city()
    yield Principal(sub="k", role=Role.county_admin, region_code=HULI), world.county(HULI)
    yield Principal(sub="s", role=Role.county_admin, region_code=SIMING), world.county(SIMING)
    yield (
        Principal(sub=f"admin:{p.id}", role=Role.institution_admin, region_code=HULI, institution_id=p.id),
        world.admin(p),
    )
    yield (
        Principal(
            sub=f"staff:{c.nurse}",
            role=Role.institution_staff,
            region_code=HULI,
            institution_id=p.id,
            practitioner_id=c.nurse,
        ),
        world.staff(p, c.nurse),
    )
    yield (
        Principal(sub=f"client:platform-{XIAMEN}", role=Role.city_platform, region_code=XIAMEN),
        world.platform(),
    )
    yield (
        Principal(sub="service:indicators", role=Role.service, region_code="350000"),
        world.tokens.headers(Role.service, "350000", sub="service:indicators"),
    )


READERS = ["province", "city", "county", "other_county", "admin", "nurse", "platform", "service"]


def _filters(landscape: dict[str, Any]) -> list[dict[str, Any]]:
    c: Crew = landscape["crew"]
    return [
        {},
        *({"status": status.value} for status in (OrderStatus.submitted, OrderStatus.completed)),
        {"status": "cancelled"},
        {"flagged": "true"},
        {"flagged": "false"},
        {"institution_id": str(c.provider.id)},
        {"region_code": HULI},
        {"region_code": SIMING},
        {"recipient_id": landscape["unlinked"]},
        {"home_bed_id": str(uuid.uuid4())},
        {"status": "submitted", "flagged": "true", "institution_id": str(c.provider.id), "region_code": HULI},
    ]


def _arguments(query: dict[str, Any]) -> dict[str, Any]:
    flagged = query.get("flagged")
    return {
        "status": OrderStatus(query["status"]) if "status" in query else None,
        "flagged": None if flagged is None else flagged == "true",
        "institution_id": uuid.UUID(query["institution_id"]) if "institution_id" in query else None,
        "region_code": query.get("region_code"),
        "recipient_id": uuid.UUID(query["recipient_id"]) if "recipient_id" in query else None,
        "home_bed_id": uuid.UUID(query["home_bed_id"]) if "home_bed_id" in query else None,
    }


async def _reference(app: FastAPI, principal: Principal, query: dict[str, Any], params: PageParams) -> bytes:
    async with app.state.database.session() as session:
        rows, next_cursor = await list_reference.list_(session, principal, params=params, **_arguments(query))
        names = await service.recipient_names(
            app.state.person_index, app.state.cipher, rows, principal=principal, purpose="GET orders"
        )
        items = [list_reference.to_summary(o, names.get(o.recipient_id)) for o in rows]
    return PAGE.dump_json(Page[OrderSummary](items=items, next_cursor=next_cursor, limit=params.limit))


async def _compare(
    world: World, app: FastAPI, principal: Principal, headers: dict[str, str], query: dict[str, Any]
) -> Page[OrderSummary]:
    response = await world.client.get(ORDERS, params={**query, "limit": 200}, headers=headers)
    assert response.status_code == 200, (query, response.text)
    assert response.headers["content-type"] == "application/json"
    page = PAGE.validate_json(response.content)  # what the schema says …
    assert PAGE.dump_json(page) == response.content  # … and nothing it does not say
    expected = await _reference(app, principal, query, PageParams(limit=200, cursor=None))
    assert response.content == expected, query
    return page


@pytest.mark.parametrize("reader", range(len(READERS)), ids=READERS)
async def test_every_filter_and_role_gets_the_model_paths_bytes(
    world: World, homecare_app: FastAPI, reader: int
) -> None:
    landscape = await _landscape(world, homecare_app)
    principal, headers = list(_readers(world, landscape["crew"]))[reader]
    seen = 0
    for query in _filters(landscape):
        seen += len((await _compare(world, homecare_app, principal, headers, query)).items)
    assert seen, "every reader sees some order"


async def test_the_person_index_down_gives_the_model_paths_bytes(world: World, homecare_app: FastAPI) -> None:
    landscape = await _landscape(world, homecare_app)
    principal, headers = list(_readers(world, landscape["crew"]))[2]
    held = homecare_app.state.person_index
    homecare_app.state.person_index = None
    try:
        page = await _compare(world, homecare_app, principal, headers, {})
    finally:
        homecare_app.state.person_index = held
    names = {str(item.recipient_id): item.recipient_name for item in page.items}
    assert names[landscape["linked"]] is None  # the index's: not readable
    assert names[landscape["unlinked"]] == "林*公"  # its own copy


async def test_pages_and_cursors_match_the_model_path(world: World, homecare_app: FastAPI) -> None:
    landscape = await _landscape(world, homecare_app)
    principal, headers = list(_readers(world, landscape["crew"]))[0]
    cursor: str | None = None
    pages = 0
    while True:
        query: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await world.client.get(ORDERS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        expected = await _reference(homecare_app, principal, {}, PageParams(limit=2, cursor=cursor))
        assert response.content == expected
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages >= 3  # 6 orders of the test at least, 2 a page


async def test_one_statement_and_masked_names(world: World, homecare_app: FastAPI) -> None:
    landscape = await _landscape(world, homecare_app)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = homecare_app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await world.client.get(
            ORDERS, params={"institution_id": str(landscape["crew"].provider.id)}, headers=world.county(HULI)
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, response.text
    assert len(statements) == 1, statements  # the orders with their item codes and recipients
    items = {item["id"]: item for item in response.json()["items"]}
    assert len(items) == 5
    for item in items.values():
        assert tuple(item) == serialised_keys(OrderSummary)
        assert item["recipient_name"] in ("陈*婆", "林*公", None)  # masked, never whole
    assert items[landscape["first"]["id"]]["item_codes"] == ["HC01", "HC05", "HC20"]
    assert items[landscape["first"]["id"]]["flag_reasons"] == []
    done = items[landscape["done"]["id"]]
    assert (done["status"], done["status_label"]) == ("completed", "已完成")
    assert done["total_yuan"] == "155.00"  # HC01 80.00 + visit 50.00 + consumables 2 × 12.50
    for secret in ("陈阿婆", "林阿公", "黄阿婆", "台湾街"):
        assert secret not in response.text
