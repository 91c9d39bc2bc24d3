"""Refresh tokens (stored hashed, rotated within a family) and login attempts (rate limits, login audit)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import BigIntKey, UTCDateTime, utcnow
from services.gateway.base import Base


class RefreshToken(Base):
    """One refresh token. Refreshing marks it ``rotated_at`` and issues the next one in the same family;
    presenting a rotated token again revokes the whole family (it was stolen or replayed)."""

    __tablename__ = "refresh_token"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginAttempt(Base):
    """Every password or client-credentials attempt: the rate limiter counts recent failures here."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_account_attempted_at", "account", "attempted_at"),
        Index("ix_login_attempt_client_address_attempted_at", "client_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    account: Mapped[str] = mapped_column(String(120))
    client_address: Mapped[str] = mapped_column(String(64))
    grant_type: Mapped[str] = mapped_column(String(40))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(40))
