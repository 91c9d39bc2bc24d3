"""an institution's year figures from the registry feed (issue 13): the 入住 100 人以上 rule for year Y
reads that year's year-end residents

The registry's feed gains the entity type ``institution_year_stat`` (registry_0008 enters every existing
row); the followers ask for it from now on, so the read model is dropped with its cursors and every feed
is read again from its start (what ``python -m services.indicators.rebuild`` does).

Revision ID: indicators_0005
Revises: indicators_0004
Create Date: 2026-11-30 07:10:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "indicators_0005"
down_revision: str | None = "indicators_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

FACT_TABLES = (
    "institution",
    "institution_year_stat",
    "filing",
    "agreement",
    "round_visit",
    "referral",
    "home_bed",
    "care_order",
    "order_rating",
)


def upgrade() -> None:
    op.create_table(
        "institution_year_stat",
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("operating_beds", sa.Integer(), nullable=False),
        sa.Column("occupied_bed_days", sa.BigInteger(), nullable=False),
        sa.Column("residents", sa.Integer(), nullable=False),
        sa.Column("disabled_or_dementia_residents", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("source_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_year_stat")),
    )
    with op.batch_alter_table("institution_year_stat", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_institution_year_stat_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_institution_year_stat_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_institution_year_stat_year"), ["year"], unique=False)
    for table in FACT_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM feed_cursor"))
    log.info("indicators_0005: read model and feed cursors cleared; the followers re-read every feed")


def downgrade() -> None:
    with op.batch_alter_table("institution_year_stat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_year_stat_year"))
        batch_op.drop_index(batch_op.f("ix_institution_year_stat_region_code"))
        batch_op.drop_index(batch_op.f("ix_institution_year_stat_institution_id"))
    op.drop_table("institution_year_stat")
    for table in FACT_TABLES:
        if table != "institution_year_stat":
            op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM feed_cursor"))
