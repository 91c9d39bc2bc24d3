"""Versioned 签约服务包 of an institution: a code with numbered versions, one of them active."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Index, Integer, Numeric, String, UniqueConstraint, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.residents.base import Base
from services.residents.packages.rules import PackageKind, PackageStatus


class ServicePackage(EntityMixin, ChangeTracked, Base):
    """One version of a package. ``items`` is a list of ``{"code", "name", "times_per_year"}``."""

    __tablename__ = "service_package"
    __change_entity__ = "service_package"
    __table_args__ = (
        UniqueConstraint("institution_id", "code", "version_no"),
        # one active version per code: two concurrent revisions cannot both win
        Index(
            "ux_service_package_active_code",
            "institution_id",
            "code",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_service_package_region_code_id", "region_code", "id"),
        Index("ix_service_package_institution_id_id", "institution_id", "id"),
        # the list's ?kind= and ?code= filters
        Index("ix_service_package_kind_id", "kind", "id"),
        Index("ix_service_package_code_id", "code", "id"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    institution_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    code: Mapped[str] = mapped_column(String(40))
    version_no: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[PackageKind] = mapped_column(str_enum(PackageKind, 20))
    status: Mapped[PackageStatus] = mapped_column(str_enum(PackageStatus, 10), index=True)
    fee_yuan: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
