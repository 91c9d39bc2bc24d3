"""Practitioners (doctors, nurses, 护理员) attached to an institution."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, ClassVar, Final

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.registry.base import Base


class PractitionerKind(StrEnum):
    doctor = "doctor"
    nurse = "nurse"
    carer = "carer"


PRACTITIONER_KIND_LABELS: Final = {
    PractitionerKind.doctor: "医师",
    PractitionerKind.nurse: "护士",
    PractitionerKind.carer: "护理员",
}


class Title(StrEnum):
    """Professional titles (卫生专业技术资格), nurses' and doctors' ladders."""

    nurse = "nurse"
    senior_nurse = "senior_nurse"
    supervising_nurse = "supervising_nurse"
    associate_chief_nurse = "associate_chief_nurse"
    chief_nurse = "chief_nurse"
    physician = "physician"
    attending_physician = "attending_physician"
    associate_chief_physician = "associate_chief_physician"
    chief_physician = "chief_physician"


TITLE_LABELS: Final = {
    Title.nurse: "护士",
    Title.senior_nurse: "护师",
    Title.supervising_nurse: "主管护师",
    Title.associate_chief_nurse: "副主任护师",
    Title.chief_nurse: "主任护师",
    Title.physician: "医师",
    Title.attending_physician: "主治医师",
    Title.associate_chief_physician: "副主任医师",
    Title.chief_physician: "主任医师",
}
# Each kind's ladder, lowest first (a carer has no professional title).
TITLE_LADDERS: Final = {
    PractitionerKind.nurse: (
        Title.nurse,
        Title.senior_nurse,
        Title.supervising_nurse,
        Title.associate_chief_nurse,
        Title.chief_nurse,
    ),
    PractitionerKind.doctor: (
        Title.physician,
        Title.attending_physician,
        Title.associate_chief_physician,
        Title.chief_physician,
    ),
    PractitionerKind.carer: (),
}


class Practitioner(EntityMixin, ChangeTracked, Base):
    __tablename__ = "practitioner"
    __change_entity__ = "practitioner"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"id_number_enc", "id_number_hash", "phone_enc"})
    __table_args__ = (
        Index("ix_practitioner_institution_kind", "institution_id", "kind", "id"),
        Index("ix_practitioner_region", "region_code", "id"),
        Index("ix_practitioner_source_key", "source_system", "external_id", unique=True),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"))
    region_code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[PractitionerKind] = mapped_column(str_enum(PractitionerKind, 10))
    title: Mapped[Title | None] = mapped_column(str_enum(Title, 30), index=True)
    practice_certificate_no: Mapped[str | None] = mapped_column(String(40))
    clinical_years: Mapped[int] = mapped_column(Integer, default=0)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    trainings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    misconduct_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    # Records pushed in bulk are keyed by (source_system, external_id); both null for others.
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, None]:
        return (self.region_code, self.institution_id, None)
