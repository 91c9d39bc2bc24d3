"""the coverage's snapshot of the registry's elderly-care institutions, followed from its feed (issue 16)

Revision ID: contracts_0006
Revises: contracts_0005
Create Date: 2026-11-30 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "contracts_0006"
down_revision: str | None = "contracts_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registry_institution",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("has_medical_unit", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_institution")),
    )
    op.create_index(
        "ix_registry_institution_coverage",
        "registry_institution",
        ["active", "region_code", "kind", "has_medical_unit", "id"],
        unique=False,
    )
    op.create_table(
        "registry_feed_cursor",
        sa.Column("feed", sa.String(length=32), nullable=False),
        sa.Column("cursor", sa.String(length=200), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("feed", name=op.f("pk_registry_feed_cursor")),
    )
    op.execute("INSERT INTO registry_feed_cursor (feed, cursor, last_seq) VALUES ('registry', NULL, NULL)")


def downgrade() -> None:
    op.drop_table("registry_feed_cursor")
    op.drop_index("ix_registry_institution_coverage", table_name="registry_institution")
    op.drop_table("registry_institution")
