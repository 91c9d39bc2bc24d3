"""家庭医生团队 and its members (registry practitioners, each in one 三师两员 role)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.residents.base import Base
from services.residents.teams.rules import TeamRole


class Team(EntityMixin, ChangeTracked, Base):
    """A family-doctor team of a primary-care institution (the institution's name and county are the
    snapshot taken from the registry when the team was created)."""

    __tablename__ = "team"
    __change_entity__ = "team"
    __table_args__ = (
        Index("ix_team_region_code_id", "region_code", "id"),
        Index("ix_team_institution_id_id", "institution_id", "id"),
        UniqueConstraint("institution_id", "name"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    institution_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(100))
    leader_practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class TeamMember(EntityMixin, ChangeTracked, Base):
    __tablename__ = "team_member"
    __change_entity__ = "team_member"
    __table_args__ = (UniqueConstraint("team_id", "practitioner_id"),)

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("team.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    region_code: Mapped[str] = mapped_column(String(6))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    practitioner_name: Mapped[str] = mapped_column(String(50))
    practitioner_kind: Mapped[str] = mapped_column(String(10))
    role: Mapped[TeamRole] = mapped_column(str_enum(TeamRole, 30))
