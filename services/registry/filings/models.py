"""备案 filings of the medical units inside elderly-care institutions, and their history."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, UTCDateTime, str_enum, utcnow
from services.registry.base import Base


class FilingState(StrEnum):
    draft = "draft"
    accepted = "accepted"
    rejected = "rejected"
    revoked = "revoked"


FILING_STATE_LABELS: Final = {
    FilingState.draft: "草稿",
    FilingState.accepted: "已备案",
    FilingState.rejected: "不予备案",
    FilingState.revoked: "已撤销",
}


class UnitKind(StrEnum):
    """The internal medical unit being filed (内设医务室/护理站/诊所)."""

    infirmary = "infirmary"
    nursing_station = "nursing_station"
    clinic = "clinic"


UNIT_KIND_LABELS: Final = {
    UnitKind.infirmary: "内设医务室",
    UnitKind.nursing_station: "内设护理站",
    UnitKind.clinic: "内设诊所",
}
# WS 218-2002 kind code of each unit kind.
UNIT_KIND_CODES: Final = {
    UnitKind.infirmary: "D400",
    UnitKind.nursing_station: "A720",
    UnitKind.clinic: "D211",
}


class Filing(EntityMixin, ChangeTracked, Base):
    __tablename__ = "filing"
    __change_entity__ = "filing"
    __table_args__ = (
        Index("ix_filing_region_state", "region_code", "state"),
        Index("ix_filing_source_key", "source_system", "external_id", unique=True),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    unit_kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind, 20))
    unit_name: Mapped[str] = mapped_column(String(200))
    ws218_kind_code: Mapped[str] = mapped_column(String(4))
    person_in_charge: Mapped[str | None] = mapped_column(String(50))
    doctors: Mapped[int] = mapped_column(Integer, default=0)
    nurses: Mapped[int] = mapped_column(Integer, default=0)
    service_scope: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[FilingState] = mapped_column(
        str_enum(FilingState, 20), default=FilingState.draft, index=True
    )
    filing_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Records of a history import are keyed by (source_system, external_id); both null for others.
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, None]:
        return (self.region_code, self.institution_id, None)


class FilingEvent(Base):
    """One step of a filing's history: a transition or a correction, with who, when, why and what."""

    __tablename__ = "filing_event"
    __table_args__ = (Index("ix_filing_event_filing", "filing_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    filing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("filing.id"))
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer)
    actor_sub: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
