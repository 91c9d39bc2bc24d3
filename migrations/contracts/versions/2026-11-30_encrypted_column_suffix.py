"""encrypted personal-data columns end in _enc, as in homecare and the registry (issue 12)

Revision ID: contracts_0003
Revises: contracts_0002
Create Date: 2026-11-30 05:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "contracts_0003"
down_revision: str | None = "contracts_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RENAMED = {
    "referral": ("resident_name", "resident_id_number", "resident_phone"),
    "agreement": ("medical_contact_phone", "elderly_contact_phone"),
}


def upgrade() -> None:
    for table, columns in RENAMED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, new_column_name=f"{column}_enc")


def downgrade() -> None:
    for table, columns in RENAMED.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(f"{column}_enc", new_column_name=column)
