"""Where attachment bytes live, outside the database row: a small async interface and its filesystem
implementation (``make run`` and tests). Objects are named by their SHA-256, so a write of the same bytes
twice is harmless."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol

import httpx

from services.homecare.attachments.s3 import S3Store
from services.homecare.settings import HomecareSettings


class AttachmentStore(Protocol):
    async def put(self, sha256: str, data: bytes) -> None: ...

    async def get(self, sha256: str) -> bytes | None: ...

    async def exists(self, sha256: str) -> bool: ...

    async def write_part(self, upload_id: str, offset: int, data: bytes) -> None:
        """Writes a resumable upload's bytes at ``offset`` (the same bytes again change nothing)."""
        ...

    async def read_part(self, upload_id: str) -> bytes: ...

    async def drop_part(self, upload_id: str) -> None: ...


class FileSystemStore:
    """Files under ``root/ab/<sha256>``; written to a temp file in the same directory and renamed into
    place (a reader never sees half a file), each call in a worker thread (no blocking I/O in the loop)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _put(self, sha256: str, data: bytes) -> None:
        path = self._path(sha256)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _get(self, sha256: str) -> bytes | None:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def _part(self, upload_id: str) -> Path:
        return self.root / ".uploads" / upload_id

    def _write_part(self, upload_id: str, offset: int, data: bytes) -> None:
        path = self._part(upload_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, offset)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _read_part(self, upload_id: str) -> bytes:
        try:
            return self._part(upload_id).read_bytes()
        except FileNotFoundError:
            return b""

    async def write_part(self, upload_id: str, offset: int, data: bytes) -> None:
        await asyncio.to_thread(self._write_part, upload_id, offset, data)

    async def read_part(self, upload_id: str) -> bytes:
        return await asyncio.to_thread(self._read_part, upload_id)

    async def drop_part(self, upload_id: str) -> None:
        await asyncio.to_thread(self._part(upload_id).unlink, True)

    async def put(self, sha256: str, data: bytes) -> None:
        await asyncio.to_thread(self._put, sha256, data)

    async def get(self, sha256: str) -> bytes | None:
        return await asyncio.to_thread(self._get, sha256)

    async def exists(self, sha256: str) -> bool:
        return await asyncio.to_thread(self._path(sha256).exists)


def make_store(settings: HomecareSettings) -> AttachmentStore:
    """The store the settings name: the S3-compatible one when an endpoint is set, else the filesystem."""
    if settings.attachments_s3_endpoint_url:
        return S3Store(
            httpx.AsyncClient(timeout=settings.upstream_timeout_seconds),
            endpoint_url=settings.attachments_s3_endpoint_url,
            bucket=settings.attachments_s3_bucket,
            region=settings.attachments_s3_region,
            access_key_id=settings.attachments_s3_access_key_id,
            secret_access_key=settings.attachments_s3_secret_access_key,
        )
    return FileSystemStore(Path(settings.attachments_dir))
