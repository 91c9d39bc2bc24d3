"""Provider institutions' homecare settings: 上门服务费 and the catalog items they offer at their prices."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import Boolean, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin
from services.homecare.base import Base
from services.homecare.catalog.models import Money


class Provider(EntityMixin, ChangeTracked, Base):
    """A 互联网+护理服务 provider (a registry institution flagged ``internet_nursing_provider``)."""

    __tablename__ = "provider"
    __change_entity__ = "provider"

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    institution_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    visit_fee_yuan: Mapped[Decimal] = mapped_column(Money)
    home_bed_service: Mapped[bool] = mapped_column(Boolean, default=False)


class ProviderItem(EntityMixin, ChangeTracked, Base):
    """One catalog item (by code, across versions) a provider offers, at its own price."""

    __tablename__ = "provider_item"
    __change_entity__ = "provider_item"
    __table_args__ = (UniqueConstraint("institution_id", "item_code"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    region_code: Mapped[str] = mapped_column(String(6))
    item_code: Mapped[str] = mapped_column(String(20))
    price_yuan: Mapped[Decimal] = mapped_column(Money)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
