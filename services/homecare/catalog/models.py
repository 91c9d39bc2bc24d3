"""The 互联网+护理服务 catalog: published versions and their items (never edited in place)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from libs.common.models import EntityMixin, str_enum, utcnow
from services.homecare.base import Base

Money = Numeric(10, 2)


class Risk(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


RISK_LABELS = {Risk.low: "低风险", Risk.medium: "中风险", Risk.high: "高风险"}


class CatalogVersion(EntityMixin, Base):
    """One published catalog; ``sequence`` orders versions, the highest is current."""

    __tablename__ = "catalog_version"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, unique=True)
    source: Mapped[str] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(120))
    item_count: Mapped[int] = mapped_column(Integer)

    items: Mapped[list[CatalogItem]] = relationship(
        lazy="raise", order_by="CatalogItem.code", back_populates="catalog_version"
    )


class CatalogItem(EntityMixin, Base):
    __tablename__ = "catalog_item"
    __table_args__ = (UniqueConstraint("catalog_version_id", "code"),)

    catalog_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_version.id"))
    code: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    risk: Mapped[Risk] = mapped_column(str_enum(Risk, 10))
    needs_medical_order: Mapped[bool] = mapped_column(Boolean)
    needs_specialist_training: Mapped[bool] = mapped_column(Boolean)
    # the lowest nurse title for this item; empty = the general rule (护师 or above, homecare_eligible)
    required_title: Mapped[str | None] = mapped_column(String(20))
    price_min_yuan: Mapped[Decimal | None] = mapped_column(Money)
    price_max_yuan: Mapped[Decimal | None] = mapped_column(Money)
    source: Mapped[str | None] = mapped_column(String(200))

    catalog_version: Mapped[CatalogVersion] = relationship(lazy="raise", back_populates="items")
