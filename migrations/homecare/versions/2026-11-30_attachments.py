"""attachment, attachment_upload, home_bed_round.photo_sha256: photos and signatures (issue 18)

The bytes live in the attachment store (filesystem or S3-compatible), named by their SHA-256; the row
keeps what the server checked (size, type by content) and who uploaded them. A resumable upload's row
counts the bytes received so far.

Revision ID: homecare_0007
Revises: homecare_0006
Create Date: 2026-11-30 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import libs.common.models

revision: str = "homecare_0007"
down_revision: str | None = "homecare_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("uploaded_by_sub", sa.String(length=120), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_attachment")),
    )
    op.create_table(
        "attachment_upload",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_sub", sa.String(length=120), nullable=False),
        sa.Column("institution_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", libs.common.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_upload")),
    )
    with op.batch_alter_table("home_bed_round", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("photo_sha256", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("home_bed_round", schema=None) as batch_op:
        batch_op.drop_column("photo_sha256")
    op.drop_table("attachment_upload")
    op.drop_table("attachment")
