from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin
from services.registry.base import Base


class InstitutionKind(StrEnum):
    medical = "medical"
    elderly_care = "elderly_care"
    integrated = "integrated"


KIND_LABELS = {
    InstitutionKind.medical: "医疗机构",
    InstitutionKind.elderly_care: "养老机构",
    InstitutionKind.integrated: "医养结合机构",
}


class Institution(EntityMixin, ChangeTracked, Base):
    __tablename__ = "institution"
    __change_entity__ = "institution"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[InstitutionKind] = mapped_column(String(20), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def change_scope(self) -> tuple[str | None, None, None]:
        return (self.region_code, None, None)
