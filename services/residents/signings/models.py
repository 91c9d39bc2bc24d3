"""家庭医生签约 contracts: a person with one team, for a term; renewals and transfers link to the contract
they follow."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Numeric, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.residents.base import Base
from services.residents.signings.rules import SigningOrigin, SigningStatus, TerminationReason

ACTIVE = "status = 'active'"


class Signing(EntityMixin, ChangeTracked, Base):
    """One contract. ``region_code`` is the person's county when signed (where the resident counts);
    ``packages`` the package versions signed, each ``{"package_id", "code", "version_no", "name", "kind",
    "fee_yuan"}``; ``ended_date`` the day a terminated or transferred contract ended early."""

    __tablename__ = "signing"
    __change_entity__ = "signing"
    __table_args__ = (
        # one contract in force per person: concurrent signings of one resident cannot both win
        Index(
            "ux_signing_active_person",
            "person_id",
            unique=True,
            sqlite_where=text(ACTIVE),
            postgresql_where=text(ACTIVE),
        ),
        Index("ix_signing_region_code_id", "region_code", "id"),
        Index("ix_signing_institution_id_id", "institution_id", "id"),
        Index("ix_signing_region_code_start_date", "region_code", "start_date"),
        Index("ix_signing_region_code_end_date", "region_code", "end_date"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    region_code: Mapped[str] = mapped_column(String(6))
    status: Mapped[SigningStatus] = mapped_column(str_enum(SigningStatus, 20), index=True)
    origin: Mapped[SigningOrigin] = mapped_column(str_enum(SigningOrigin, 20))
    previous_signing_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("signing.id"), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    ended_date: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[TerminationReason | None] = mapped_column(str_enum(TerminationReason, 30))
    packages: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_fee_yuan: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    # 65 or over on the start date: what the feed tells the indicators (never the birth date)
    elderly_at_start: Mapped[bool] = mapped_column(Boolean)
    signed_by_sub: Mapped[str] = mapped_column(String(120))
    signed_at: Mapped[datetime]
