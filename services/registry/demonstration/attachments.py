"""Attachment content checks: the type comes from the file's magic bytes, never from the client's claim."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from fastapi import UploadFile

from services.registry.demonstration.errors import AttachmentRejected, AttachmentTooLarge

# magic bytes → (media type, usual extension)
_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
ACCEPTED = "PDF、JPEG、PNG"
_CHUNK = 64 * 1024
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


@dataclass(frozen=True, slots=True)
class CheckedFile:
    filename: str
    content_type: str
    content: bytes
    sha256: str


def sniff(content: bytes) -> tuple[str, str] | None:
    """(media type, extension) of PDF, JPEG or PNG content; None for anything else."""
    for magic, media_type, extension in _SIGNATURES:
        if content.startswith(magic):
            return media_type, extension
    return None


def safe_filename(name: str | None, extension: str) -> str:
    base = _UNSAFE.sub("_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip(" ._")
    if not base:
        base = "附件"
    if not base.lower().endswith(extension) and not (extension == ".jpg" and base.lower().endswith(".jpeg")):
        base += extension
    return base[-255:]


async def read_checked(upload: UploadFile, *, max_bytes: int) -> CheckedFile:
    """Read at most ``max_bytes`` (413 beyond), check the type by magic bytes (422), hash it."""
    parts: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise AttachmentTooLarge(
                f"附件超过大小上限 {max_bytes // (1024 * 1024)} MB（{max_bytes} 字节）",
                extra={"max_bytes": max_bytes},
            )
        parts.append(chunk)
    content = b"".join(parts)
    if not content:
        raise AttachmentRejected("附件为空", code="demonstration_attachment_empty")
    sniffed = sniff(content)
    if sniffed is None:
        raise AttachmentRejected(
            f"附件类型不被接受：只接受 {ACCEPTED} 文件（按文件内容判断）",
            extra={"accepted": ["application/pdf", "image/jpeg", "image/png"]},
        )
    media_type, extension = sniffed
    return CheckedFile(
        filename=safe_filename(upload.filename, extension),
        content_type=media_type,
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )
