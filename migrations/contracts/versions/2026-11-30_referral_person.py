"""referral.person_id: the resident's person in the residents' person index (issue 19)

Empty for the referrals already requested: ``python -m services.contracts.referrals.person_link`` links
them through the residents' API (find-or-create by ID number) and reports those it could not match (a
migration cannot call another service; the blind indexes of the two services use different keys).

Revision ID: contracts_0007
Revises: contracts_0006
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "contracts_0007"
down_revision: str | None = "contracts_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("person_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_referral_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_person_id"))
        batch_op.drop_column("person_id")
