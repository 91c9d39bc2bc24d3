"""historical import of 巡诊 visits and referrals (issue 14): their city-platform key (source_system,
external_id: a unique index) and the record's hash that makes a replay unchanged

Revision ID: contracts_0005
Revises: contracts_0004
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "contracts_0005"
down_revision: str | None = "contracts_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("visit", "referral")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("source_system", sa.String(length=60), nullable=True))
            batch.add_column(sa.Column("external_id", sa.String(length=120), nullable=True))
            batch.add_column(sa.Column("source_hash", sa.String(length=64), nullable=True))
        op.create_index(f"ux_{table}_source_key", table, ["source_system", "external_id"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ux_{table}_source_key", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("source_hash")
            batch.drop_column("external_id")
            batch.drop_column("source_system")
