"""Home-bed rounds reference their photos by hash: uploaded first (422 attachment_missing otherwise), then
readable by whoever may see the round (the round's doctor, the provider, the county), not another doctor."""

from __future__ import annotations

import uuid

from tests.homecare.attachments.test_attachments import JPEG, fresh, problem, sha, upload
from tests.homecare.home_beds.test_router import BEDS, _bed
from tests.homecare.world import HC, World, crew


async def test_a_round_references_uploaded_photos_only(world: World) -> None:
    c = await crew(world)
    other = await crew(world)
    bed = await _bed(world, c, "opened")
    doctor = world.staff(c.provider, c.doctor)
    photo, missing = fresh(JPEG), fresh(JPEG)
    assert (await upload(world, doctor, photo)).status_code == 201
    body = {"client_record_id": str(uuid.uuid4()), "round_date": bed["opened_date"], "findings": "创面缩小"}

    refused = await world.client.post(
        f"{BEDS}/{bed['id']}/rounds",
        json={**body, "photo_sha256": [sha(photo), sha(missing)]},
        headers=doctor,
    )
    assert problem(refused, 422, "attachment_missing")["extra"] == {"sha256": [sha(missing)]}

    created = await world.client.post(
        f"{BEDS}/{bed['id']}/rounds", json={**body, "photo_sha256": [sha(photo)]}, headers=doctor
    )
    assert created.status_code == 201, created.text
    assert created.json()["photo_sha256"] == [sha(photo)]
    path = f"{HC}/attachments/{sha(photo)}"
    for headers in (doctor, world.admin(c.provider), world.county()):
        got = await world.client.get(path, headers=headers)
        assert got.status_code == 200, got.text
        assert got.content == photo
    for headers in (world.staff(c.provider, c.nurse), world.admin(other.provider)):
        problem(await world.client.get(path, headers=headers), 404, "attachment_not_found")
