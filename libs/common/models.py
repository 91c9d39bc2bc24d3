"""Declarative building blocks shared by every service's models.

Each service declares its own ``Base`` like :class:`PlatformBase` (its own ``MetaData``, so that its
Alembic environment sees only its tables); the platform tables every service carries (audit trail, idempotency
records, change feed) live on :data:`PlatformBase` and are migrated into each service's database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def str_enum(enum_type: type[StrEnum], length: int = 30) -> Enum:
    """A labelled enum's column: its values in a VARCHAR (no database enum type), read back as members."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC timestamp is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# BIGINT keys that autoincrement on PostgreSQL and are the rowid on SQLite.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


class EntityMixin:
    """UUID key, created/updated timestamps and an optimistic-concurrency ``version``."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


class ChangeTracked:
    """Marks an entity whose creates, updates and deletes go to the service's change feed.

    ``__change_entity__`` names it in the feed; ``change_scope`` says where it belongs. What its entries
    carry is declared by a ``libs.common.changes.FeedEntity`` (set as ``__change_feed__``): an allow-list.
    ``__change_exclude__`` (attributes that must never be carried) is kept as a second guard: a test checks
    that no payload carries one of them.
    """

    __change_entity__: ClassVar[str]
    __change_exclude__: ClassVar[frozenset[str]] = frozenset()
    __change_feed__: ClassVar[Any]

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, uuid.UUID | None]:
        """(county region code, owning institution id, other institution id) for feed filtering."""
        return (getattr(self, "region_code", None), getattr(self, "institution_id", None), None)

    def change_other_region(self) -> str | None:
        """A second county whose readers also receive the entity's entries, or ``None``.

        An agreement belongs to its elderly-care party's county (``change_scope``) and is read as well
        by the officials of its medical party's county: that county is its other region.
        """
        return None


class PlatformBase(DeclarativeBase):
    """The platform tables; a service's own ``Base`` is declared the same way with its own MetaData."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


class AuditRecord(PlatformBase):
    """Who did what to which entity, with the changed fields (personal data masked)."""

    __tablename__ = "audit_record"
    __table_args__ = (Index("ix_audit_record_entity", "entity_type", "entity_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_sub: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))


class IdempotencyRecord(PlatformBase):
    """The first response to a POST with an ``Idempotency-Key``, replayed for retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("principal_sub", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    principal_sub: Mapped[str] = mapped_column(String(120))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_headers: Mapped[dict[str, str]] = mapped_column(JSON)
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ChangeRecord(PlatformBase):
    """One entry of the service's change feed; ``seq`` grows in commit order."""

    __tablename__ = "change_record"
    __table_args__ = (
        Index("ix_change_record_region_seq", "region_code", "seq"),
        Index("ix_change_record_other_region_seq", "other_region_code", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    op: Mapped[str] = mapped_column(String(10))  # upsert | delete
    entity_version: Mapped[int | None] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6))
    #: a second county whose readers also receive the entry (the other party's, for an agreement)
    other_region_code: Mapped[str | None] = mapped_column(String(6))
    institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    other_institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
