"""Attachments of visit records: content-addressed uploads checked by content, read only by those who may
see a record that references them (issue 18)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.homecare.world import HC, Crew, World, crew, record_body, to_status

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(64)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(64)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + os.urandom(32)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fresh(kind: bytes = PNG) -> bytes:
    """Bytes of the same type no other test uploaded (attachments are content-addressed)."""
    return kind + os.urandom(16)


async def upload(
    world: World, headers: dict[str, str], data: bytes, digest: str | None = None
) -> httpx.Response:
    return await world.client.post(
        f"{HC}/attachments",
        files={"file": ("photo.bin", data, "application/octet-stream")},
        data={"sha256": digest or sha(data)},
        headers=headers,
    )


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


async def test_multipart_upload_is_stored_once_and_served_to_the_uploader(
    world: World, attachment_store: Path
) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    data = fresh(JPEG)
    first = await upload(world, nurse, data)
    assert first.status_code == 201, first.text
    assert first.json() == {"sha256": sha(data), "size": len(data), "content_type": "image/jpeg"}
    again = await upload(world, nurse, data)
    assert again.status_code == 200
    assert again.json() == first.json()
    stored = await asyncio.to_thread(lambda: [p.name for p in attachment_store.rglob(sha(data))])
    assert stored == [sha(data)]

    got = await world.client.get(f"{HC}/attachments/{sha(data)}", headers=nurse)
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(("kind", "content_type"), [(PNG, "image/png"), (WEBP, "image/webp")])
async def test_raw_put_recognises_the_type_by_content(world: World, kind: bytes, content_type: str) -> None:
    c = await crew(world)
    data = fresh(kind)
    response = await world.client.put(
        f"{HC}/attachments/{sha(data)}",
        content=data,
        headers={**world.staff(c.provider, c.nurse), "Content-Type": "image/jpeg"},  # the label is ignored
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == content_type


async def test_hash_mismatch_is_refused(world: World) -> None:
    c = await crew(world)
    data = fresh()
    wrong = sha(data + b"x")
    body = problem(
        await upload(world, world.staff(c.provider, c.nurse), data, wrong), 422, "attachment_hash_mismatch"
    )
    assert body["extra"] == {"declared": wrong, "actual": sha(data)}
    got = await world.client.get(f"{HC}/attachments/{wrong}", headers=world.staff(c.provider, c.nurse))
    problem(got, 404, "attachment_not_found")


async def test_oversize_file_is_refused(
    world: World, homecare_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(homecare_app.state.settings, "attachments_max_bytes", 64)
    c = await crew(world)
    body = problem(
        await upload(world, world.staff(c.provider, c.nurse), fresh()), 413, "attachment_too_large"
    )
    assert body["extra"] == {"max_bytes": 64}


@pytest.mark.parametrize("data", [SVG, b"GIF89a" + bytes(32), b"%PDF-1.7\n", b""])
async def test_anything_but_jpeg_png_webp_is_refused(world: World, data: bytes) -> None:
    c = await crew(world)
    problem(await upload(world, world.staff(c.provider, c.nurse), data), 415, "attachment_type_unsupported")


async def test_malformed_hash_is_a_validation_problem(world: World) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    problem(await upload(world, nurse, fresh(), "XYZ"), 422, "validation_failed")
    problem(await world.client.get(f"{HC}/attachments/not-a-hash", headers=nurse), 422, "validation_failed")


async def test_others_see_an_unreferenced_upload_as_missing(world: World) -> None:
    c = await crew(world)
    other = await crew(world)
    data = fresh()
    assert (await upload(world, world.staff(c.provider, c.nurse), data)).status_code == 201
    for headers in (
        world.staff(c.provider, c.junior_nurse),  # another nurse of the same institution
        world.admin(other.provider),  # another institution
        world.staff(other.provider, other.nurse),
    ):
        problem(
            await world.client.get(f"{HC}/attachments/{sha(data)}", headers=headers),
            404,
            "attachment_not_found",
        )


async def _recorded(world: World, c: Crew) -> tuple[dict[str, Any], bytes, bytes]:
    nurse = world.staff(c.provider, c.nurse)
    photo, signature = fresh(JPEG), fresh(PNG)
    for data in (photo, signature):
        assert (await upload(world, nurse, data)).status_code == 201
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    response = await world.client.post(
        f"{HC}/orders/{order['id']}/visit-record",
        json=record_body(order, photo_sha256=[sha(photo)], signature_sha256=sha(signature)),
        headers=nurse,
    )
    assert response.status_code == 201, response.text
    return order, photo, signature


async def test_a_record_shares_its_attachments_with_those_who_may_see_it(world: World) -> None:
    c = await crew(world)
    other = await crew(world)
    _, photo, signature = await _recorded(world, c)
    for data in (photo, signature):
        path = f"{HC}/attachments/{sha(data)}"
        for headers in (world.admin(c.provider), world.county(), world.staff(c.provider, c.nurse)):
            got = await world.client.get(path, headers=headers)
            assert got.status_code == 200, got.text
            assert got.content == data
        for headers in (
            world.staff(c.provider, c.junior_nurse),
            world.admin(other.provider),
            world.staff(other.provider, other.nurse),
        ):
            problem(await world.client.get(path, headers=headers), 404, "attachment_not_found")


async def test_a_record_referencing_an_attachment_not_uploaded_is_refused(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    uploaded, missing_photo, missing_signature = fresh(), fresh(), fresh()
    assert (await upload(world, world.staff(c.provider, c.nurse), uploaded)).status_code == 201
    response = await world.client.post(
        f"{HC}/orders/{order['id']}/visit-record",
        json=record_body(
            order,
            photo_sha256=[sha(uploaded), sha(missing_photo)],
            signature_sha256=sha(missing_signature),
        ),
        headers=world.staff(c.provider, c.nurse),
    )
    body = problem(response, 422, "attachment_missing")
    assert body["extra"] == {"sha256": sorted([sha(missing_photo), sha(missing_signature)])}


async def test_attachments_need_a_token_and_the_permission(world: World) -> None:
    data = fresh()
    problem(await world.client.get(f"{HC}/attachments/{sha(data)}"), 401, "missing_token")
    problem(await upload(world, world.platform(), data), 403, "permission_denied")
