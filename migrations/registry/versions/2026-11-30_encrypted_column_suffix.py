"""encrypted personal-data columns end in _enc, as in homecare; a practitioner's 身份证号 is id_number
(issue 12)

Revision ID: registry_0006
Revises: registry_0005
Create Date: 2026-11-30 05:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0006"
down_revision: str | None = "registry_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.alter_column("contact_phone_encrypted", new_column_name="contact_phone_enc")
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.drop_index("ix_practitioner_id_card_hash")
        batch_op.alter_column("id_card_encrypted", new_column_name="id_number_enc")
        batch_op.alter_column("id_card_hash", new_column_name="id_number_hash")
        batch_op.alter_column("phone_encrypted", new_column_name="phone_enc")
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.create_index("ix_practitioner_id_number_hash", ["id_number_hash"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.drop_index("ix_practitioner_id_number_hash")
        batch_op.alter_column("id_number_enc", new_column_name="id_card_encrypted")
        batch_op.alter_column("id_number_hash", new_column_name="id_card_hash")
        batch_op.alter_column("phone_enc", new_column_name="phone_encrypted")
    with op.batch_alter_table("practitioner", schema=None) as batch_op:
        batch_op.create_index("ix_practitioner_id_card_hash", ["id_card_hash"], unique=False)
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.alter_column("contact_phone_enc", new_column_name="contact_phone_encrypted")
