"""The reference client (tests/cross_service/mirror.py) follows the change feeds of registry, contracts and
homecare through the gateway while writers run concurrently, and ends with exactly the server's state —
for 厦门, for 福州 and for 平潭 (its own city-level unit), each seeing only its own records."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from libs.common.divisions import RegionScope
from tests.cross_service.conftest import Live
from tests.cross_service.data import Writer, create_platform_client
from tests.cross_service.mirror import CityMirror, ClientCredentials

XIAMEN, FUZHOU, PINGTAN = "350200", "350100", "350128"
POLL_SECONDS = 0.05
#: counties where the writers work, by city-level unit
COUNTIES = {XIAMEN: ("350206", "350203"), FUZHOU: ("350104",), PINGTAN: ("350128",)}


async def _mirror(live: Live, city: str, **kwargs: Any) -> CityMirror:
    client_id, secret = await create_platform_client(live.gateway, live.tokens, city)
    return CityMirror(
        live.gateway, ClientCredentials(live.gateway, client_id, secret), page_size=25, **kwargs
    )


def _in_scope(city: str, regions: set[str | None]) -> bool:
    scope = RegionScope.for_region(city)
    return all(scope.contains(region) for region in regions)


async def _registry_writer(w: Writer, county: str) -> None:
    """Creates, edits and deactivates institutions in one county."""
    for i in range(3):
        institution = await w.institution(county)
        institution = await w.update_institution(institution, beds_elderly_care=10 + i)
        if i % 2:
            await w.deactivate_institution(institution)


async def _agreement_writer(w: Writer, county: str) -> None:
    """Agreements moving through their states: drafted, submitted, signed, terminated."""
    medical = await w.institution(county, "medical")
    for until in ("create", "submit", "countersign"):
        elderly = await w.institution(county)
        agreement = await w.agreement(medical, elderly, until=until)
        if until == "countersign":
            await w.terminate(agreement, elderly)


async def _homecare_writer(w: Writer, county: str) -> None:
    """Recipients registered and edited, orders placed and cancelled."""
    provider = await w.provider(county)
    for i in range(2):
        recipient = await w.recipient(provider)
        order = await w.order(provider, recipient)
        if i % 2 == 0:
            await w.cancel_order(provider, order)
        await w.update_recipient(provider, recipient, disability_level=3)


async def _mover(w: Writer) -> None:
    """Recipients who move house to another county of the city, moved by the city platform (an
    institution records only in its own county, and no writer may move a recipient to another city —
    cross-city tombstones are proven with institutions in test_scope_moves.py)."""
    provider = await w.provider("350206")
    for _ in range(2):  # 厦门 湖里 → 思明
        recipient = await w.recipient(provider)
        await w.update_recipient(provider, recipient, headers=w.platform(XIAMEN), region_code="350203")


async def _follow(mirror: CityMirror, done: asyncio.Event) -> int:
    polls = 0
    while not done.is_set():
        await mirror.sync()
        polls += 1
        await asyncio.sleep(POLL_SECONDS)
    await mirror.sync()
    return polls


async def test_city_mirrors_following_concurrent_writes_end_exactly_as_the_server(live: Live) -> None:
    w = Writer(live)
    mirrors = {city: await _mirror(live, city) for city in COUNTIES}
    writers: list[Coroutine[Any, Any, None]] = [_mover(w)]
    for counties in COUNTIES.values():
        for county in counties:
            writers += [
                _registry_writer(w, county),
                _agreement_writer(w, county),
                _homecare_writer(w, county),
            ]
    done = asyncio.Event()
    followers = [asyncio.create_task(_follow(mirror, done)) for mirror in mirrors.values()]
    try:
        await asyncio.gather(*writers)
    finally:
        done.set()
        polls = await asyncio.gather(*followers)
    assert min(polls) > 1, "the mirrors were meant to follow while the writers ran"

    for city, mirror in mirrors.items():
        comparison = await mirror.compare()
        assert comparison.exact, (city, comparison.differences[:10])
        assert all(comparison.compared.values()), (city, comparison.compared)
        assert _in_scope(city, mirror.regions()), (city, mirror.regions())
    assert PINGTAN not in mirrors[FUZHOU].regions()
    assert mirrors[PINGTAN].regions() == {PINGTAN}
    for mirror in mirrors.values():
        mirror.close()


async def test_a_mirror_restarted_on_its_file_resumes_from_its_cursors(live: Live, tmp_path: Path) -> None:
    w = Writer(live)
    database = str(tmp_path / "xm_mirror.db")
    first = await _mirror(live, XIAMEN, database=database)
    await first.sync()
    cursors = {service: first.cursor(service) for service in first.services}
    first.close()

    institution = await w.institution("350206")
    await w.deactivate_institution(institution)
    client_id, secret = await create_platform_client(live.gateway, live.tokens, XIAMEN)
    again = CityMirror(live.gateway, ClientCredentials(live.gateway, client_id, secret), database=database)
    assert {service: again.cursor(service) for service in again.services} == cursors
    report = await again.sync()
    assert report.upserts.get("registry") == 2  # only what happened since: the create and the deactivation
    assert again.get("registry", "institution", institution["id"]) is not None
    assert (await again.compare()).exact
    again.close()
