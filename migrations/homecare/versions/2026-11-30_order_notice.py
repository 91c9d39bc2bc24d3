"""order_notice: the order events nurses and dispatchers follow (issue 18: /events/feed, /events)

One row per event (assigned, unassigned, rescheduled, cancelled, completed, sos_raised,
sos_acknowledged), numbered by ``seq`` in commit order (inserted under the change feed's lock), with the
institution and the nurse it concerns; a nurse's and an institution's feed each page on their own index.

Revision ID: homecare_0008
Revises: homecare_0007
Create Date: 2026-11-30 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "homecare_0008"
down_revision: str | None = "homecare_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_notice",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("event_type", sa.String(length=30), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=False),
        sa.Column("practitioner_id", sa.Uuid(), nullable=True),
        sa.Column("occurred_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("order_event_id", sa.Uuid(), nullable=True),
        sa.Column("sos_alert_id", sa.Uuid(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_order_notice")),
    )
    op.create_index("ix_order_notice_nurse_seq", "order_notice", ["practitioner_id", "seq"])
    op.create_index("ix_order_notice_institution_seq", "order_notice", ["institution_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_order_notice_institution_seq", table_name="order_notice")
    op.drop_index("ix_order_notice_nurse_seq", table_name="order_notice")
    op.drop_table("order_notice")
