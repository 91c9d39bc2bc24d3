"""An uploaded attachment's metadata (the bytes are in the store, named by the hash)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import UTCDateTime, utcnow
from services.homecare.base import Base


class Attachment(Base):
    __tablename__ = "attachment"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))
    uploaded_by_sub: Mapped[str] = mapped_column(String(120))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AttachmentUpload(Base):
    """A resumable upload in progress: the bytes received so far are in the store's partial area."""

    __tablename__ = "attachment_upload"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    uploaded_by_sub: Mapped[str] = mapped_column(String(120))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
