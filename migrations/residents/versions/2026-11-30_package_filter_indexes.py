"""service packages: indexes for the list's kind and code filters

Revision ID: residents_0005
Revises: residents_0004
Create Date: 2026-11-30 13:02:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "residents_0005"
down_revision: str | None = "residents_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_package", schema=None) as batch_op:
        batch_op.create_index("ix_service_package_kind_id", ["kind", "id"], unique=False)
        batch_op.create_index("ix_service_package_code_id", ["code", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_package", schema=None) as batch_op:
        batch_op.drop_index("ix_service_package_code_id")
        batch_op.drop_index("ix_service_package_kind_id")
