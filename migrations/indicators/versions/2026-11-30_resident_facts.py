"""the residents service's facts (issue 19): family-doctor signings, 65+ check-ups, ability assessments

New tables only, filled by the residents feed's follower from the start of that feed; nothing already
applied changes.

Revision ID: indicators_0007
Revises: indicators_0006
Create Date: 2026-11-30 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "indicators_0007"
down_revision: str | None = "indicators_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fact_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("source_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
    ]


def _indexes(table: str, columns: tuple[str, ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "resident_signing",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("previous_signing_id", sa.Uuid(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("ended_date", sa.Date(), nullable=True),
        sa.Column("termination_reason", sa.String(length=30), nullable=True),
        sa.Column("elderly_at_start", sa.Boolean(), nullable=False),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_signing")),
    )
    _indexes("resident_signing", ("person_id", "institution_id", "start_date", "end_date", "region_code"))

    op.create_table(
        "resident_checkup",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=False),
        sa.Column("last_date", sa.Date(), nullable=False),
        sa.Column("standard", sa.Boolean(), nullable=False),
        sa.Column("standard_date", sa.Date(), nullable=True),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_checkup")),
    )
    _indexes("resident_checkup", ("person_id", "institution_id", "region_code"))
    with op.batch_alter_table("resident_checkup", schema=None) as batch_op:
        batch_op.create_index("ix_resident_checkup_year_region", ["year", "region_code"], unique=False)

    op.create_table(
        "resident_assessment",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("assessed_date", sa.Date(), nullable=False),
        sa.Column("scale_version", sa.String(length=40), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        *_fact_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_assessment")),
    )
    _indexes("resident_assessment", ("person_id", "institution_id", "assessed_date", "region_code"))


def downgrade() -> None:
    op.drop_table("resident_assessment")
    op.drop_table("resident_checkup")
    op.drop_table("resident_signing")
