"""home beds: the key of a historical import (home_bed_source) (issue 14)

``POST /home-beds/bulk`` keys the past home beds a province or city platform imports by
``(source_system, external_id)``; the key and the digest of the record last written live beside the bed,
not on it (the bed's columns and its change-feed payload stay as they are).

Revision ID: homecare_0004
Revises: homecare_0003
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "homecare_0004"
down_revision: str | None = "homecare_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_bed_source",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("home_bed_id", sa.Uuid(), nullable=False),
        sa.Column("source_system", sa.String(length=60), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("source_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_bed_id"], ["home_bed.id"], name=op.f("fk_home_bed_source_home_bed_id_home_bed")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_bed_source")),
        sa.UniqueConstraint("home_bed_id", name=op.f("uq_home_bed_source_home_bed_id")),
        sa.UniqueConstraint(
            "source_system", "external_id", name=op.f("uq_home_bed_source_source_system_external_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("home_bed_source")
