"""Every rule of a single write holds for the same record sent in bulk (issue 12).

Each case sends ONE body that breaks one rule of ``POST /orders`` (``place``) or ``POST /recipients``
(create) — first to the single endpoint, then, with its ``external_id``, to the bulk endpoint, as the same
city platform. The single write must refuse it with the code the rule names; the bulk must reject the
record with the same code and the same field errors (fields named ``records.0.*`` instead of ``body.*``),
and write nothing. A valid body is accepted by both (the control).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.homecare.world import HC, HULI, World, crew, id_number, soon

SOURCE = "xm-rules"


def _fields(errors: list[dict[str, Any]], prefix: str) -> list[tuple[str, str]]:
    """(field within the record, code); ``prefix`` is ``body.`` or ``records.0.`` (a whole-record error
    names ``body`` or ``records.0.``)."""
    return sorted(
        (e["field"].removeprefix(prefix).removeprefix(prefix.rstrip(".")), e["code"]) for e in errors
    )


async def _single_then_bulk(
    world: World, kind: str, body: dict[str, Any], expected_code: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    single = await world.client.post(f"{HC}/{kind}", json=body, headers=world.platform())
    assert 400 <= single.status_code < 500, single.text
    problem = single.json()
    assert problem["code"] == expected_code, problem

    external_id = f"X-{uuid.uuid4()}"
    bulk = await world.client.post(
        f"{HC}/{kind}/bulk",
        json={"source_system": SOURCE, "records": [{**body, "external_id": external_id}]},
        headers=world.platform(),
    )
    assert bulk.status_code == 200, bulk.text
    answer = bulk.json()
    [result] = answer["results"]
    assert (result["outcome"], result["code"], result["id"]) == ("rejected", expected_code, None), result
    assert answer["counts"] == {"created": 0, "updated": 0, "unchanged": 0, "rejected": 1}
    assert _fields(result["errors"], "records.0.") == _fields(problem.get("errors") or [], "body."), (
        problem,
        result,
    )
    return problem, result


# ------------------------------------------------------------------------------------------ orders


async def _order_world(world: World) -> tuple[dict[str, Any], dict[str, Any]]:
    """A valid order body of the 厦门 platform, and a recipient of it without coordinates."""
    c = await crew(world)
    home = await world.client.post(
        f"{HC}/recipients",
        json=world.recipient_body(institution_id=str(c.provider.id)),
        headers=world.platform(),
    )
    assert home.status_code == 201, home.text
    start = soon(24)
    body = {
        "institution_id": str(c.provider.id),
        "recipient_id": home.json()["id"],
        "item_codes": ["HC01"],
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }
    nowhere = await world.client.post(
        f"{HC}/recipients",
        json=world.recipient_body(latitude=None, longitude=None),
        headers=world.platform(),
    )
    assert nowhere.status_code == 201, nowhere.text
    return body, nowhere.json()


def _window(body: dict[str, Any], *, start_hours: float, hours: float) -> dict[str, Any]:
    start = soon(start_hours)
    return {
        **body,
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=hours)).isoformat(),
    }


ORDER_CASES: dict[str, tuple[str, Any]] = {
    # order_max_window_hours is 12: a 48-hour window is refused (issue 12's first example)
    "window_of_48_hours": ("order_invalid", lambda b, _r: _window(b, start_hours=24, hours=48)),
    # an address without its county (issue 12's second example)
    "address_without_region_code": (
        "order_invalid",
        lambda b, _r: {**b, "address": "福建省厦门市湖里区江头街道台湾街 90 号"},
    ),
    "window_already_past": ("order_invalid", lambda b, _r: _window(b, start_hours=-5, hours=2)),
    "window_ending_before_it_starts": (
        "validation_failed",
        lambda b, _r: _window(b, start_hours=24, hours=-1),
    ),
    "item_named_twice": ("validation_failed", lambda b, _r: {**b, "item_codes": ["HC01", "HC01"]}),
    "no_items": ("validation_failed", lambda b, _r: {**b, "item_codes": []}),
    "region_code_of_a_city_not_a_county": (
        "validation_failed",
        lambda b, _r: {**b, "address": "福建省厦门市湖里区江头街道台湾街 90 号", "region_code": "350200"},
    ),
    "no_institution": ("order_invalid", lambda b, _r: {k: v for k, v in b.items() if k != "institution_id"}),
    "institution_not_a_provider": (
        "provider_not_found",
        lambda b, _r: {**b, "institution_id": str(uuid.uuid4())},
    ),
    "unknown_recipient": ("recipient_not_found", lambda b, _r: {**b, "recipient_id": str(uuid.uuid4())}),
    "no_coordinates_for_the_address": ("order_invalid", lambda b, r: {**b, "recipient_id": r["id"]}),
    "address_outside_the_platforms_city": (
        "out_of_scope",
        lambda b, _r: {**b, "address": "福建省福州市仓山区上渡路 1 号", "region_code": "350104"},
    ),
    "item_not_in_the_catalog": ("catalog_item_unknown", lambda b, _r: {**b, "item_codes": ["HC01", "ZZ99"]}),
    "item_the_provider_does_not_offer": ("item_not_offered", lambda b, _r: {**b, "item_codes": ["HC02"]}),
    "home_bed_not_of_this_recipient": (
        "order_invalid",
        lambda b, _r: {**b, "home_bed_id": str(uuid.uuid4())},
    ),
    "latitude_out_of_range": ("validation_failed", lambda b, _r: {**b, "latitude": 91}),
}


@pytest.mark.parametrize("case", list(ORDER_CASES))
async def test_each_rule_of_placing_an_order_holds_in_bulk(world: World, case: str) -> None:
    body, without_coordinates = await _order_world(world)
    expected, breaks = ORDER_CASES[case]
    await _single_then_bulk(world, "orders", breaks(body, without_coordinates), expected)


async def test_the_48_hour_window_is_refused_in_bulk_naming_the_window_end(world: World) -> None:
    body, _ = await _order_world(world)
    problem, result = await _single_then_bulk(
        world, "orders", _window(body, start_hours=24, hours=48), "order_invalid"
    )
    assert [e["field"] for e in result["errors"]] == ["records.0.window_end"]
    assert "12" in result["detail"]


async def test_a_valid_order_is_placed_alike_by_both(world: World) -> None:
    body, _ = await _order_world(world)
    single = await world.client.post(f"{HC}/orders", json=body, headers=world.platform())
    assert single.status_code == 201, single.text
    bulk = await world.client.post(
        f"{HC}/orders/bulk",
        json={"source_system": SOURCE, "records": [{**body, "external_id": "OK-1"}]},
        headers=world.platform(),
    )
    [result] = bulk.json()["results"]
    assert (result["outcome"], result["version"]) == ("created", 1), result
    placed = (await world.client.get(f"{HC}/orders/{result['id']}", headers=world.platform())).json()
    alone = single.json()
    for key in ("status", "region_code", "requires_doctor", "fees", "catalog_version_code", "provider_name"):
        assert placed[key] == alone[key], key


# -------------------------------------------------------------------------------------- recipients


RECIPIENT_CASES: dict[str, tuple[str, Any]] = {
    "birth_date_not_that_of_the_id_number": (
        "birth_date_mismatch",
        lambda b: {**b, "birth_date": "1941-02-03"},
    ),
    "institution_not_a_provider": (
        "serving_institution_invalid",
        lambda b: {**b, "institution_id": str(uuid.uuid4())},
    ),
    "home_outside_the_platforms_city": (
        "out_of_scope",
        lambda b: {**b, "address": "福建省福州市仓山区上渡路 1 号", "region_code": "350104"},
    ),
    "region_code_of_a_city_not_a_county": ("validation_failed", lambda b: {**b, "region_code": "350200"}),
    "id_number_with_a_wrong_check_character": (
        "validation_failed",
        lambda b: {**b, "id_number": b["id_number"][:-1] + ("1" if b["id_number"][-1] != "1" else "2")},
    ),
    "phone_not_a_mobile_number": ("validation_failed", lambda b: {**b, "phone": "12345"}),
    "no_consent": ("validation_failed", lambda b: {k: v for k, v in b.items() if k != "consent"}),
}


@pytest.mark.parametrize("case", list(RECIPIENT_CASES))
async def test_each_rule_of_registering_a_recipient_holds_in_bulk(world: World, case: str) -> None:
    expected, breaks = RECIPIENT_CASES[case]
    body = world.recipient_body(id_number=id_number(HULI, "19400101"))
    await _single_then_bulk(world, "recipients", breaks(body), expected)


async def test_a_person_already_registered_with_the_institution_is_refused_in_bulk(world: World) -> None:
    provider = await world.provider()
    body = world.recipient_body(institution_id=str(provider.id))
    first = await world.client.post(f"{HC}/recipients", json=body, headers=world.platform())
    assert first.status_code == 201, first.text
    again = {**body, "phone": "13906009999"}
    await _single_then_bulk(world, "recipients", again, "recipient_exists")


async def test_two_records_of_one_person_for_one_institution_in_a_batch_register_once(world: World) -> None:
    provider = await world.provider()
    body = world.recipient_body(institution_id=str(provider.id))
    bulk = await world.client.post(
        f"{HC}/recipients/bulk",
        json={
            "source_system": SOURCE,
            "records": [{**body, "external_id": "P-1"}, {**body, "external_id": "P-2"}],
        },
        headers=world.platform(),
    )
    assert [(r["outcome"], r["code"]) for r in bulk.json()["results"]] == [
        ("created", None),
        ("rejected", "recipient_exists"),
    ]
