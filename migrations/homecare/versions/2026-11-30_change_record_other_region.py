"""change feed: a second region per entry (other_region_code), read like region_code (issue 13)

An agreement between a hospital of one county and a home of another is read by both counties' officials;
its change-feed entries carry the second county. The column is shared by every service's change_record
(libs/common/models.ChangeRecord); it stays empty where an entity belongs to one region.

Revision ID: homecare_0003
Revises: homecare_0002
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "homecare_0003"
down_revision: str | None = "homecare_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_region_code", sa.String(length=6), nullable=True))
        batch_op.create_index("ix_change_record_other_region_seq", ["other_region_code", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.drop_index("ix_change_record_other_region_seq")
        batch_op.drop_column("other_region_code")
