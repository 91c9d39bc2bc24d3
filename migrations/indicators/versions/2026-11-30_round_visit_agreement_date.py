"""round_visit: index (agreement_id, visit_date) for the 巡诊 figure (issue 16)

The indicators report counts, for each agreement in force, its visits of the period (a correlated count
per agreement). With the agreement alone the database fetches every visit of the agreement and filters
the dates; with the pair it reads the period's range only.

Revision ID: indicators_0006
Revises: indicators_0005
Create Date: 2026-11-30 10:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "indicators_0006"
down_revision: str | None = "indicators_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round_visit", schema=None) as batch_op:
        batch_op.create_index("ix_round_visit_agreement_date", ["agreement_id", "visit_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("round_visit", schema=None) as batch_op:
        batch_op.drop_index("ix_round_visit_agreement_date")
