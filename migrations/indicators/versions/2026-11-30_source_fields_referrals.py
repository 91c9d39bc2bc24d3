"""the facts the sources now carry (issue 13): an institution's 老年友善 recognition year, the home bed an
order serves, and 双向转诊 referrals from the contracts feed

Facts already applied lack the new fields, and the referrals before the contracts cursor were never asked
for; an entry is applied only when newer than its row, so re-reading would not fill them. The read model
is therefore dropped with its cursors (what ``python -m services.indicators.rebuild`` does): the followers
read every feed again from its start.

Revision ID: indicators_0004
Revises: indicators_0003
Create Date: 2026-11-30 06:30:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "indicators_0004"
down_revision: str | None = "indicators_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

FACT_TABLES = (
    "institution",
    "filing",
    "agreement",
    "round_visit",
    "home_bed",
    "care_order",
    "order_rating",
    "referral",
)


def _clear_read_model() -> None:
    for table in FACT_TABLES:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM feed_cursor"))
    log.info("indicators_0004: read model and feed cursors cleared; the followers re-read every feed")


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("elderly_friendly_year", sa.Integer(), nullable=True))
    with op.batch_alter_table("care_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("home_bed_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_care_order_home_bed_id"), ["home_bed_id"], unique=False)
    op.create_table(
        "referral",
        sa.Column("agreement_id", sa.Uuid(), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("urgency", sa.String(length=20), nullable=True),
        sa.Column("from_institution_id", sa.Uuid(), nullable=False),
        sa.Column("to_institution_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("requested_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", libs.common.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("admitted_at", libs.common.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", libs.common.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", libs.common.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("source_seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_agreement_id"), ["agreement_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referral_from_institution_id"), ["from_institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referral_region_code"), ["region_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_referral_requested_at"), ["requested_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_referral_to_institution_id"), ["to_institution_id"], unique=False
        )
    _clear_read_model()


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_to_institution_id"))
        batch_op.drop_index(batch_op.f("ix_referral_requested_at"))
        batch_op.drop_index(batch_op.f("ix_referral_region_code"))
        batch_op.drop_index(batch_op.f("ix_referral_from_institution_id"))
        batch_op.drop_index(batch_op.f("ix_referral_agreement_id"))
    op.drop_table("referral")
    with op.batch_alter_table("care_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_care_order_home_bed_id"))
        batch_op.drop_column("home_bed_id")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_column("elderly_friendly_year")
    before = tuple(t for t in FACT_TABLES if t != "referral")
    for table in before:
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.execute(sa.text("DELETE FROM feed_cursor"))
