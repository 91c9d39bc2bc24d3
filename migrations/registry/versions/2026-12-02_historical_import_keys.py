"""Historical import (issue 14): practitioners and filings pushed in bulk are keyed by the sender's
(source_system, external_id) like institutions (unique, null for records made otherwise); a revoked
filing keeps when it was revoked (``revoked_at``, set by ``POST /filings/{id}/revoke`` and by a history
import; null before this revision).

Revision ID: registry_0011
Revises: registry_0010
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "registry_0011"
down_revision: str | None = "registry_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_system", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_practitioner_source_key", ["source_system", "external_id"], unique=True)
    with op.batch_alter_table("filing", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_system", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("revoked_at", libs.common.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_filing_source_key", ["source_system", "external_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("filing", schema=None) as batch_op:
        batch_op.drop_index("ix_filing_source_key")
        batch_op.drop_column("revoked_at")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source_system")
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.drop_index("ix_practitioner_source_key")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source_system")
