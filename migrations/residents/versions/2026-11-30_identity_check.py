"""identity_check: the identity checks of a person other services asked (issue 18)

One row per check (the day in Asia/Shanghai, who asked, the answer — never the value sent); a person's
rows of the day bound the attempts (RESIDENTS_IDENTITY_CHECK_MAX_PER_DAY).

Revision ID: residents_0006
Revises: residents_0005
Create Date: 2026-11-30 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "residents_0006"
down_revision: str | None = "residents_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_check",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column("checked_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("caller_sub", sa.String(length=120), nullable=False),
        sa.Column("matches", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_identity_check_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_check")),
    )
    op.create_index(
        "ix_identity_check_person_id_check_date", "identity_check", ["person_id", "check_date"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_identity_check_person_id_check_date", table_name="identity_check")
    op.drop_table("identity_check")
