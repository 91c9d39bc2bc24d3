"""The signing and renewal figures by county: persons with a contract in force on the period's last day
(today for the current year), those aged 65 or over that day; contracts due for renewal in the year (ran
to their end, and renewed or past their end date) and renewed. 海沧 (350205): no other test signs there."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from libs.common.clock import ManualClock
from tests.residents.signings.flows import SIGNINGS, Practice, if_match, practice, resident, signed
from tests.residents.world import World

HAICANG = "350205"
pytestmark = pytest.mark.usefixtures("clock")


async def _person(world: World, p: Practice, birth: date) -> dict[str, Any]:
    return await resident(world, p.inst, birth=birth)


async def test_signing_and_renewal_counts_by_county(world: World, clock: ManualClock) -> None:
    p = await practice(world, region_code=HAICANG)
    staff = world.staff(p.inst)
    # signed today (2026-03-16): 76, 56, 65 today exactly, 65 tomorrow
    await signed(world, p, await _person(world, p, date(1950, 5, 1)))
    await signed(world, p, await _person(world, p, date(1970, 5, 1)))
    await signed(world, p, await _person(world, p, date(1961, 3, 16)))
    await signed(world, p, await _person(world, p, date(1961, 3, 17)))
    # ran out on 2026-02-28 unrenewed: due, not renewed, not in force
    await signed(world, p, await _person(world, p, date(1950, 1, 1)), start_date="2025-03-01")
    # ends 2026-03-31, renewed today: due and renewed; the old contract is still in force
    renewing = await signed(world, p, await _person(world, p, date(1950, 1, 2)), start_date="2025-04-01")
    renewed = await world.client.post(
        f"{SIGNINGS}/{renewing['id']}/renew", headers={**staff, **if_match(renewing)}
    )
    assert renewed.status_code == 201, renewed.text
    # ends 2026-05-31: in force, not yet due
    await signed(world, p, await _person(world, p, date(1950, 1, 3)), start_date="2025-06-01")
    # terminated on 2026-03-10: neither in force today nor due
    ended = await signed(world, p, await _person(world, p, date(1950, 1, 4)), start_date="2025-06-15")
    terminated = await world.client.post(
        f"{SIGNINGS}/{ended['id']}/terminate",
        json={"reason": "resident_request", "ended_date": "2026-03-10"},
        headers={**staff, **if_match(ended)},
    )
    assert terminated.status_code == 200, terminated.text

    this_year = await world.client.get(
        f"{SIGNINGS}/rates", params={"year": 2026}, headers=world.county(HAICANG)
    )
    assert this_year.status_code == 200, this_year.text
    figures = this_year.json()
    assert figures["as_of"] == "2026-03-16"
    assert figures["items"] == [
        {
            "region_code": HAICANG,
            "signed_persons": 6,
            "signed_persons_65_plus": 4,
            "due_for_renewal": 2,
            "renewed": 1,
            "renewal_rate_pct": "50.00",
        }
    ]
    assert figures["total"]["region_code"] == HAICANG
    assert figures["total"]["signed_persons"] == 6

    last_year = await world.client.get(
        f"{SIGNINGS}/rates", params={"year": 2025}, headers=world.county(HAICANG)
    )
    assert last_year.json()["as_of"] == "2025-12-31"
    assert last_year.json()["items"] == [
        {
            "region_code": HAICANG,
            "signed_persons": 4,
            "signed_persons_65_plus": 4,
            "due_for_renewal": 0,
            "renewed": 0,
            "renewal_rate_pct": None,
        }
    ]

    # early next year, 2026 as a whole: on 31 December the four of 2026-03-16 (the one born 1961-03-17 now
    # 65 too) and the renewed person's successor are in force; the contract that ended 2026-05-31 is due
    clock.set_today(date(2027, 1, 5))
    again = await world.client.get(f"{SIGNINGS}/rates", params={"year": 2026}, headers=world.county(HAICANG))
    assert again.json()["as_of"] == "2026-12-31"
    assert again.json()["items"] == [
        {
            "region_code": HAICANG,
            "signed_persons": 5,
            "signed_persons_65_plus": 4,
            "due_for_renewal": 3,
            "renewed": 1,
            "renewal_rate_pct": "33.33",
        }
    ]


async def test_figures_are_scoped_and_a_future_year_is_refused(world: World) -> None:
    p = await practice(world, region_code=HAICANG)
    await signed(world, p, await resident(world, p.inst))
    other = await world.client.get(f"{SIGNINGS}/rates", params={"year": 2026}, headers=world.county("350203"))
    assert other.json()["items"] == []
    assert other.json()["total"]["signed_persons"] == 0
    own = await world.client.get(f"{SIGNINGS}/rates", params={"year": 2026}, headers=world.admin(p.inst))
    assert own.json()["total"]["signed_persons"] == 1
    future = await world.client.get(f"{SIGNINGS}/rates", params={"year": 2027}, headers=world.county(HAICANG))
    assert future.status_code == 422
    assert future.json()["code"] == "period_in_future"
    bad = await world.client.get(f"{SIGNINGS}/rates", params={"year": "x"}, headers=world.county(HAICANG))
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_failed"
