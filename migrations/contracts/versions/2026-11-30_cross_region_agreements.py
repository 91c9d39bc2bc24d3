"""cross-region agreements: read by either party's county (issue 13)

An agreement belongs to its elderly-care party's county (``region_code``) and is read as well by the
officials of its medical party's county:

* ``agreement``: an index on ``(medical_region_code, id)`` beside ``(region_code, id)``, for the scope and
  ``?region_code=`` conditions (one statement, either column);
* ``visit``: ``medical_region_code`` copied from its agreement (filled in for the visits there are);
* ``change_record``: ``other_region_code`` (libs/common/models.ChangeRecord, in every service), filled in
  for the agreement and visit entries already written, so a reader of the medical party's county that
  starts from nothing receives them.

Revision ID: contracts_0002
Revises: contracts_0001
Create Date: 2026-11-30 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "contracts_0002"
down_revision: str | None = "contracts_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agreement_medical_region_code_id", ["medical_region_code", "id"], unique=False
        )

    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("medical_region_code", sa.String(length=6), nullable=True))
    op.execute(
        "UPDATE visit SET medical_region_code = "
        "(SELECT agreement.medical_region_code FROM agreement WHERE agreement.id = visit.agreement_id)"
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.alter_column("medical_region_code", existing_type=sa.String(length=6), nullable=False)

    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("other_region_code", sa.String(length=6), nullable=True))
        batch_op.create_index("ix_change_record_other_region_seq", ["other_region_code", "seq"], unique=False)
    for entity_type, table in (("agreement", "agreement"), ("visit", "visit")):
        op.execute(
            f"UPDATE change_record SET other_region_code = "
            f"(SELECT {table}.medical_region_code FROM {table} WHERE {table}.id = change_record.entity_id) "
            f"WHERE entity_type = '{entity_type}'"
        )


def downgrade() -> None:
    with op.batch_alter_table("change_record", schema=None) as batch_op:
        batch_op.drop_index("ix_change_record_other_region_seq")
        batch_op.drop_column("other_region_code")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("medical_region_code")
    with op.batch_alter_table("agreement", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_medical_region_code_id")
