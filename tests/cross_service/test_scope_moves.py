"""Records that move out of a reader's scope must leave that reader's mirror.

The change feed writes a tombstone in the old scope when an entity's scope changes (libs/common/changes.py):
ORM writes get it from the attributes' history; bulk writers pass ``previous_scope`` to
``changes.track`` (the registry's institution and homecare's recipient bulk upserts are checked below).
"""

from __future__ import annotations

from libs.common.auth import Role
from tests.cross_service.conftest import Live
from tests.cross_service.data import REGISTRY, Writer, institution_body, unique
from tests.cross_service.mirror import CityMirror, Listed, StaticToken


def _mirror(live: Live, role: Role, region_code: str, service: str) -> CityMirror:
    """A mirror of one service's feed, read straight from the service with a minted token."""
    token = StaticToken(live.tokens.token(role, region_code))
    return CityMirror(getattr(live, service), token, services=[service])


async def test_a_recipient_who_moves_house_leaves_the_old_countys_mirror(live: Live) -> None:
    """ORM write (PATCH): covered by the feed itself."""
    w = Writer(live)
    provider = await w.provider("350206")
    recipient = await w.recipient(provider)
    listed = Listed("homecare", "recipient", "/api/v1/homecare/recipients")
    huli = _mirror(live, Role.county_admin, "350206", "homecare")
    siming = _mirror(live, Role.county_admin, "350203", "homecare")
    for mirror in (huli, siming):
        await mirror.sync()
    assert huli.get("homecare", "recipient", recipient["id"]) is not None
    await w.update_recipient(
        provider,
        recipient,
        headers=w.platform("350200"),  # the provider itself records only in its own county
        region_code="350203",
    )
    for mirror in (huli, siming):
        await mirror.sync()
        assert (await mirror.compare([listed])).exact
    assert huli.get("homecare", "recipient", recipient["id"]) is None
    assert siming.get("homecare", "recipient", recipient["id"]) is not None


async def test_an_institution_moved_by_a_bulk_upsert_leaves_the_old_citys_mirror(live: Live) -> None:
    listed = Listed("registry", "institution", f"{REGISTRY}/institutions")
    xiamen = _mirror(live, Role.city_platform, "350200", "registry")
    province = live.tokens.headers(Role.province_admin, "350000")
    external_id = unique("MOVE-")
    record = {"external_id": external_id, **institution_body("350211")}
    created = await live.registry.post(
        f"{REGISTRY}/institutions/bulk",
        json={"source_system": "sync-move", "records": [record]},
        headers=province,
    )
    assert created.json()["results"][0]["outcome"] == "created"
    await xiamen.sync()
    moved = await live.registry.post(
        f"{REGISTRY}/institutions/bulk",
        json={"source_system": "sync-move", "records": [{**record, "region_code": "350104"}]},
        headers=province,
    )
    assert moved.json()["results"][0]["outcome"] == "updated"
    await xiamen.sync()
    comparison = await xiamen.compare([listed])
    assert comparison.exact, comparison.differences


async def test_a_recipient_moved_by_a_bulk_upsert_leaves_the_old_countys_mirror(live: Live) -> None:
    w = Writer(live)
    listed = Listed("homecare", "recipient", "/api/v1/homecare/recipients")
    huli = _mirror(live, Role.county_admin, "350206", "homecare")
    platform = live.tokens.headers(Role.city_platform, "350200", sub="client:sync-move")
    record = {"external_id": unique("R-"), **w.recipient_body("350206")}
    created = await live.homecare.post(
        "/api/v1/homecare/recipients/bulk",
        json={"source_system": "sync-move", "records": [record]},
        headers=platform,
    )
    assert created.json()["results"][0]["outcome"] == "created", created.text
    await huli.sync()
    moved = await live.homecare.post(
        "/api/v1/homecare/recipients/bulk",
        json={"source_system": "sync-move", "records": [{**record, "region_code": "350203"}]},
        headers=platform,
    )
    assert moved.json()["results"][0]["outcome"] == "updated", moved.text
    await huli.sync()
    comparison = await huli.compare([listed])
    assert comparison.exact, comparison.differences
