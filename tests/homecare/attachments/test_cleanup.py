"""Attachments follow-ups (issue 18): abandoned resumable uploads dropped by a periodic pass, the S3 store's
HTTP client closed at shutdown, and the 1 MiB cap on raw and chunk bodies."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import select, update

from libs.common.jobs import run_pass
from libs.common.models import utcnow
from services.homecare.attachments.cleanup import JOB_NAME, abandoned_uploads_job, drop_abandoned_uploads
from services.homecare.attachments.models import AttachmentUpload
from services.homecare.attachments.s3 import S3Store
from services.homecare.attachments.storage import FileSystemStore, make_store
from services.homecare.settings import HomecareSettings
from tests.homecare.attachments.test_attachments import JPEG, fresh, sha
from tests.homecare.attachments.test_resumable import begin, chunk
from tests.homecare.world import HC, World, crew


async def _begun(world: World, headers: dict[str, str]) -> tuple[str, bytes]:
    data = fresh(JPEG) + bytes(300)
    started = await begin(world, headers, data)
    assert started.status_code == 201, started.text
    upload_id = str(started.json()["upload_id"])
    assert (await chunk(world, headers, upload_id, data, 0, 100)).status_code == 200
    return upload_id, data


async def _age(homecare_app: FastAPI, upload_id: str, hours: float) -> None:
    async with homecare_app.state.database.session() as session:
        await session.execute(
            update(AttachmentUpload)
            .where(AttachmentUpload.id == uuid.UUID(upload_id))
            .values(created_at=utcnow() - timedelta(hours=hours))
        )
        await session.commit()


async def test_an_upload_abandoned_longer_than_the_setting_is_dropped_bytes_and_row(
    live_world: World, homecare_app: FastAPI, attachment_store: Path
) -> None:
    c = await crew(live_world)
    nurse = live_world.staff(c.provider, c.nurse)
    old, _ = await _begun(live_world, nurse)
    recent, recent_data = await _begun(live_world, nurse)
    await _age(homecare_app, old, 25)
    await _age(homecare_app, recent, 23)
    assert (attachment_store / ".uploads" / old).exists()

    settings: HomecareSettings = homecare_app.state.settings
    assert settings.attachments_upload_abandoned_hours == 24
    job = abandoned_uploads_job(settings, lambda: FileSystemStore(attachment_store))
    assert job.name == JOB_NAME
    assert await run_pass(homecare_app.state.database, job) is not None

    assert not (attachment_store / ".uploads" / old).exists()
    assert (await live_world.client.get(f"{HC}/attachments/uploads/{old}", headers=nurse)).status_code == 404
    async with homecare_app.state.database.session() as session:
        left = set(await session.scalars(select(AttachmentUpload.id)))
    assert uuid.UUID(old) not in left
    assert uuid.UUID(recent) in left
    # the recent one goes on where it was
    done = await chunk(live_world, nurse, recent, recent_data, 100, len(recent_data))
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == sha(recent_data)
    # a second pass finds nothing more of these
    again = await drop_abandoned_uploads(
        homecare_app.state.database, FileSystemStore(attachment_store), before=utcnow() - timedelta(hours=24)
    )
    async with homecare_app.state.database.session() as session:
        assert uuid.UUID(old) not in set(await session.scalars(select(AttachmentUpload.id)))
    assert again == 0


async def test_the_s3_store_closes_its_client() -> None:
    settings = HomecareSettings(
        attachments_s3_endpoint_url="http://minio:9000",
        attachments_s3_access_key_id="k",
        attachments_s3_secret_access_key="s",
    )
    store = make_store(settings)
    assert isinstance(store, S3Store)
    assert not store.http.is_closed
    await store.aclose()
    assert store.http.is_closed
    assert isinstance(make_store(HomecareSettings()), FileSystemStore)


async def test_a_raw_put_or_a_chunk_over_1_mib_is_413(world: World) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    big = fresh(JPEG) + bytes(1024 * 1024)
    put = await world.client.put(
        f"{HC}/attachments/{sha(big)}", content=big, headers={**nurse, "Content-Type": "image/jpeg"}
    )
    assert put.status_code == 413, put.text
    started = await begin(world, nurse, big)
    assert started.status_code == 201, started.text
    response = await chunk(world, nurse, started.json()["upload_id"], big, 0, len(big))
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fits = await chunk(world, nurse, started.json()["upload_id"], big, 0, 1024 * 1024)
    assert fits.status_code == 200, fits.text
