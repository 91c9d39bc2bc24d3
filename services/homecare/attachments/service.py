"""Attachments (photos, a signature image) of visit records: content-addressed, checked by content.

The client names the bytes by their SHA-256; the server recomputes it (422 on a mismatch), caps the size
(413) and recognises the type by its magic bytes (415 for anything but JPEG, PNG, WebP — no SVG, which can
carry scripts). The same bytes are stored once. Reading is allowed to the uploader and to whoever may see
a visit record that references the hash (a nurse: her own records only); anyone else gets 404.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.scope import visible_condition
from services.homecare.attachments.errors import (
    AttachmentHashMismatch,
    AttachmentMissing,
    AttachmentNotFound,
    AttachmentTooLarge,
    AttachmentTypeUnsupported,
    BadContentRange,
    UploadNotFound,
    UploadOffsetMismatch,
)
from services.homecare.attachments.models import Attachment, AttachmentUpload
from services.homecare.attachments.storage import AttachmentStore
from services.homecare.home_beds.models import HomeBedRound
from services.homecare.orders.visits.models import VisitRecord


def sniff(data: bytes) -> str | None:
    """The media type the content's magic bytes show (None: not an accepted image)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(data: bytes, declared_sha256: str, max_bytes: int) -> str:
    """The content type of acceptable bytes; raises the problem that refuses them otherwise."""
    if len(data) > max_bytes:
        raise AttachmentTooLarge(max_bytes)
    actual = hashlib.sha256(data).hexdigest()
    if actual != declared_sha256.lower():
        raise AttachmentHashMismatch(declared_sha256, actual)
    content_type = sniff(data)
    if content_type is None:
        raise AttachmentTypeUnsupported()
    return content_type


async def store(
    session: AsyncSession,
    storage: AttachmentStore,
    principal: Principal,
    data: bytes,
    declared_sha256: str,
    max_bytes: int,
) -> tuple[Attachment, bool]:
    """Checks and keeps the bytes (once); ``True`` when this call created the attachment."""
    content_type = check(data, declared_sha256, max_bytes)
    sha256 = declared_sha256.lower()
    await storage.put(sha256, data)
    existing = await session.get(Attachment, sha256)
    if existing is not None:
        return existing, False
    attachment = Attachment(
        sha256=sha256,
        size=len(data),
        content_type=content_type,
        uploaded_by_sub=principal.sub,
        institution_id=principal.institution_id,
    )
    try:
        async with session.begin_nested():
            session.add(attachment)
    except IntegrityError:  # the same bytes uploaded at the same moment by another request
        existing = await session.get(Attachment, sha256)
        assert existing is not None
        return existing, False
    return attachment, True


def _references(sha256: str) -> ColumnElement[bool]:
    # photo_sha256 is a JSON list of lowercase hex digests: its text contains the quoted digest
    return or_(
        VisitRecord.signature_sha256 == sha256,
        cast(VisitRecord.photo_sha256, String).contains(f'"{sha256}"'),
    )


async def readable(session: AsyncSession, principal: Principal, sha256: str) -> Attachment:
    attachment = await session.get(Attachment, sha256)
    if attachment is None:
        raise AttachmentNotFound()
    if attachment.uploaded_by_sub == principal.sub:
        return attachment
    stmt = select(VisitRecord.id).where(
        _references(sha256),
        visible_condition(principal, VisitRecord.region_code, VisitRecord.institution_id),
    )
    if principal.role is Role.institution_staff:
        stmt = stmt.where(VisitRecord.practitioner_id == principal.practitioner_id)
    if await session.scalar(stmt.limit(1)) is not None:
        return attachment
    rounds = select(HomeBedRound.id).where(
        cast(HomeBedRound.photo_sha256, String).contains(f'"{sha256}"'),
        visible_condition(principal, HomeBedRound.region_code, HomeBedRound.institution_id),
    )
    if principal.role is Role.institution_staff:
        rounds = rounds.where(HomeBedRound.practitioner_id == principal.practitioner_id)
    if await session.scalar(rounds.limit(1)) is None:
        raise AttachmentNotFound()
    return attachment


async def ensure_uploaded(session: AsyncSession, hashes: Iterable[str | None]) -> None:
    """A record may reference only attachments already uploaded (422 attachment_missing)."""
    wanted = sorted({h for h in hashes if h})
    if not wanted:
        return
    found = set(await session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(wanted))))
    missing = [h for h in wanted if h not in found]
    if missing:
        raise AttachmentMissing(missing)


_RANGE = re.compile(r"^bytes (\d{1,12})-(\d{1,12})/(\d{1,12})$")


def parse_content_range(header: str | None, length: int, size: int) -> int:
    """The chunk's first byte offset from ``Content-Range: bytes a-b/size`` (checked against the body)."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        raise BadContentRange()
    start, end, total = (int(g) for g in match.groups())
    if total != size or end < start or end >= size or end - start + 1 != length:
        raise BadContentRange()
    return start


async def begin(
    session: AsyncSession, principal: Principal, sha256: str, size: int, max_bytes: int
) -> AttachmentUpload | Attachment:
    """A new resumable upload, the caller's open one for the same hash (begin is idempotent), or the
    attachment itself when those bytes are already stored."""
    if size > max_bytes:
        raise AttachmentTooLarge(max_bytes)
    existing = await session.get(Attachment, sha256)
    if existing is not None:
        return existing
    upload = await session.scalar(
        select(AttachmentUpload).where(
            AttachmentUpload.sha256 == sha256,
            AttachmentUpload.size == size,
            AttachmentUpload.uploaded_by_sub == principal.sub,
        )
    )
    if upload is None:
        upload = AttachmentUpload(
            sha256=sha256,
            size=size,
            received=0,
            uploaded_by_sub=principal.sub,
            institution_id=principal.institution_id,
        )
        session.add(upload)
        await session.flush()
    return upload


async def get_upload(session: AsyncSession, principal: Principal, upload_id: uuid.UUID) -> AttachmentUpload:
    upload = await session.get(AttachmentUpload, upload_id)
    if upload is None or upload.uploaded_by_sub != principal.sub:
        raise UploadNotFound()
    return upload


async def append(
    session: AsyncSession,
    storage: AttachmentStore,
    principal: Principal,
    upload: AttachmentUpload,
    content_range: str | None,
    data: bytes,
    max_bytes: int,
) -> Attachment | None:
    """Takes one chunk; the attachment once every byte is in (None while some are missing). A chunk may
    repeat bytes already received (a retry after a lost answer); it may not leave a gap."""
    start = parse_content_range(content_range, len(data), upload.size)
    if start > upload.received:
        raise UploadOffsetMismatch(upload.received)
    key = str(upload.id)
    await storage.write_part(key, start, data)
    upload.received = max(upload.received, start + len(data))
    await session.flush()
    if upload.received < upload.size:
        return None
    whole = (await storage.read_part(key))[: upload.size]
    attachment, _ = await store(session, storage, principal, whole, upload.sha256, max_bytes)
    await session.delete(upload)
    await session.flush()
    await storage.drop_part(key)
    return attachment
