"""The registry statistics' summary (issue 16, growth with data): one row per (county, kind, category) of
active institutions with their count, the 医养结合 count and beds and each bed field's sum, kept by the
institution feed's commit hook (services/registry/stats/summary.py) and filled here from the
institutions already there.

Revision ID: registry_0012
Revises: registry_0011
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0012"
down_revision: str | None = "registry_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BED_FIELDS = (
    "beds_elderly_care",
    "beds_medical",
    "beds_integrated",
    "beds_rehabilitation",
    "beds_nursing",
    "beds_hospice",
)
# 医养结合: kind integrated, an elderly-care institution with its own medical unit, or a medical
# institution with elderly-care beds (services/registry/stats/summary.py integrated())
INTEGRATED = (
    "(kind = 'integrated' OR (kind = 'elderly_care' AND has_medical_unit) "
    "OR (kind = 'medical' AND beds_elderly_care > 0))"
)


def upgrade() -> None:
    op.create_table(
        "institution_stats_cell",
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("institutions", sa.Integer(), nullable=False),
        sa.Column("integrated_institutions", sa.Integer(), nullable=False),
        sa.Column("integrated_institution_beds", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in BED_FIELDS],
        sa.PrimaryKeyConstraint("region_code", "kind", "category", name=op.f("pk_institution_stats_cell")),
    )
    beds = ", ".join(f"coalesce(sum({name}), 0)" for name in BED_FIELDS)
    op.execute(
        "INSERT INTO institution_stats_cell (region_code, kind, category, institutions, "
        f"integrated_institutions, integrated_institution_beds, {', '.join(BED_FIELDS)}) "
        "SELECT region_code, kind, category, count(id), "
        f"coalesce(sum(CASE WHEN {INTEGRATED} THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN {INTEGRATED} THEN beds_medical + beds_elderly_care ELSE 0 END), 0), {beds} "
        "FROM institution WHERE active GROUP BY region_code, kind, category"
    )


def downgrade() -> None:
    op.drop_table("institution_stats_cell")
