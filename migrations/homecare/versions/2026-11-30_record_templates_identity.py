"""visit_record.template_version, template_fields, respiration_rate; recipient.elder_code_* (issue 18)

A visit record keeps the record template version it was checked against (empty for the records made
before the templates) and the template's fields other than vital signs; 呼吸 joins the vital signs. A
recipient may hold a short code for the identity check at check-in, stored as a keyed hash only.

Revision ID: homecare_0009
Revises: homecare_0008
Create Date: 2026-11-30 16:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "homecare_0009"
down_revision: str | None = "homecare_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("respiration_rate", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("template_version", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("template_fields", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("elder_code_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("elder_code_issued_at", libs.common.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.drop_column("elder_code_issued_at")
        batch_op.drop_column("elder_code_hash")
    with op.batch_alter_table("visit_record", schema=None) as batch_op:
        batch_op.drop_column("template_fields")
        batch_op.drop_column("template_version")
        batch_op.drop_column("respiration_rate")
