"""the county's 待备案 list: partial index on (region_code, id) of signed agreements not yet filed (issue 15)

Revision ID: contracts_0004
Revises: contracts_0003
Create Date: 2026-11-30 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "contracts_0004"
down_revision: str | None = "contracts_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AWAITING_FILING = "state IN ('countersigned', 'active', 'expired') AND filed_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_agreement_awaiting_filing",
        "agreement",
        ["region_code", "id"],
        unique=False,
        sqlite_where=sa.text(AWAITING_FILING),
        postgresql_where=sa.text(AWAITING_FILING),
    )


def downgrade() -> None:
    op.drop_index("ix_agreement_awaiting_filing", table_name="agreement")
