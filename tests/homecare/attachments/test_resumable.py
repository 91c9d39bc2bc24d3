"""Resumable uploads: an upload id, Content-Range chunks, resumed after an interruption, repeatable."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.homecare.attachments.test_attachments import JPEG, PNG, fresh, problem, sha, upload
from tests.homecare.world import HC, World, crew


async def begin(world: World, headers: dict[str, str], data: bytes) -> httpx.Response:
    return await world.client.post(
        f"{HC}/attachments/uploads",
        json={"sha256": sha(data), "size": len(data), "content_type": "image/jpeg"},
        headers=headers,
    )


async def chunk(
    world: World, headers: dict[str, str], upload_id: str, data: bytes, start: int, end: int
) -> httpx.Response:
    return await world.client.patch(
        f"{HC}/attachments/uploads/{upload_id}",
        content=data[start:end],
        headers={**headers, "Content-Range": f"bytes {start}-{end - 1}/{len(data)}"},
    )


async def test_interrupted_upload_resumes_and_repeats_harmlessly(world: World) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    data = fresh(JPEG) + bytes(200)
    started = await begin(world, nurse, data)
    assert started.status_code == 201, started.text
    upload_id = started.json()["upload_id"]
    assert started.json()["received"] == 0

    first = await chunk(world, nurse, upload_id, data, 0, 100)
    assert first.status_code == 200, first.text
    assert first.json()["received"] == 100
    # the phone lost the answer and the network: it begins again and asks where to go on
    again = await begin(world, nurse, data)
    assert again.json()["upload_id"] == upload_id
    status = await world.client.get(f"{HC}/attachments/uploads/{upload_id}", headers=nurse)
    assert status.json()["received"] == 100
    # a retried chunk overlapping what arrived is accepted
    assert (await chunk(world, nurse, upload_id, data, 50, 150)).json()["received"] == 150
    done = await chunk(world, nurse, upload_id, data, 150, len(data))
    assert done.status_code == 201, done.text
    assert done.json() == {
        "upload_id": None,
        "sha256": sha(data),
        "size": len(data),
        "received": len(data),
        "complete": True,
        "content_type": "image/jpeg",
    }
    got = await world.client.get(f"{HC}/attachments/{sha(data)}", headers=nurse)
    assert got.content == data
    # the finished upload is gone; beginning the same bytes again answers at once
    problem(
        await world.client.get(f"{HC}/attachments/uploads/{upload_id}", headers=nurse),
        404,
        "attachment_upload_not_found",
    )
    repeat = await begin(world, nurse, data)
    assert repeat.status_code == 200
    assert repeat.json()["complete"] is True


async def test_gaps_and_bad_ranges_are_refused(world: World) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    data = fresh(PNG) + bytes(100)
    upload_id = (await begin(world, nurse, data)).json()["upload_id"]
    body = problem(
        await chunk(world, nurse, upload_id, data, 10, 20), 409, "attachment_upload_offset_mismatch"
    )
    assert body["extra"] == {"received": 0}
    path = f"{HC}/attachments/uploads/{upload_id}"
    for content_range in (None, "bytes 0-9/5", "bytes 0-4/999", "items 0-9/10", "bytes 5-2/200"):
        headers: dict[str, Any] = {**nurse}
        if content_range:
            headers["Content-Range"] = content_range
        response = await world.client.patch(path, content=data[:10], headers=headers)
        problem(response, 422, "attachment_bad_content_range")


async def test_completed_bytes_must_match_the_hash(world: World) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    data = fresh(PNG)
    upload_id = (await begin(world, nurse, data)).json()["upload_id"]
    tampered = data[:-1] + bytes([data[-1] ^ 1])
    problem(await chunk(world, nurse, upload_id, tampered, 0, len(data)), 422, "attachment_hash_mismatch")
    # the right bytes, sent again from the start, complete it
    assert (await chunk(world, nurse, upload_id, data, 0, len(data))).status_code == 201


async def test_an_upload_belongs_to_its_uploader(world: World) -> None:
    c = await crew(world)
    data = fresh(PNG)
    upload_id = (await begin(world, world.staff(c.provider, c.nurse), data)).json()["upload_id"]
    junior = world.staff(c.provider, c.junior_nurse)
    problem(await chunk(world, junior, upload_id, data, 0, len(data)), 404, "attachment_upload_not_found")
    unknown = f"{HC}/attachments/uploads/{uuid.uuid4()}"
    problem(await world.client.get(unknown, headers=junior), 404, "attachment_upload_not_found")


async def test_an_oversize_upload_is_refused_before_any_byte(world: World) -> None:
    c = await crew(world)
    response = await world.client.post(
        f"{HC}/attachments/uploads",
        json={"sha256": "0" * 64, "size": 10**9},
        headers=world.staff(c.provider, c.nurse),
    )
    problem(response, 413, "attachment_too_large")
    # one request's upload is the same path as before
    assert (await upload(world, world.staff(c.provider, c.nurse), fresh())).status_code == 201
