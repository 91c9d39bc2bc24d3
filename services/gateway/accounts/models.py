"""Platform users: administrators at each level and institution staff."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import EntityMixin
from services.gateway.base import Base


class User(EntityMixin, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        Index("ix_user_account_region_code_username", "region_code", "username"),
        Index("ix_user_account_institution_id_username", "institution_id", "username"),
        Index("ix_user_account_role_username", "role", "username"),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    region_code: Mapped[str] = mapped_column(String(6))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(120))
