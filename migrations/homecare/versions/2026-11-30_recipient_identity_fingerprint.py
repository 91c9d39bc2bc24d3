"""recipient.identity_fingerprint: the city bulk sync's keyed fingerprint of the identity it sent (issue 19)

The recipients bulk sync stores person_id only; whether a record sent again changed is told by a keyed HMAC
of its normalised identity (PersonalDataCipher.identity_fingerprint), kept here, instead of decrypting a
copy. Empty for rows written before: their next sync counts as updated once and fills it.

Revision ID: homecare_0011
Revises: homecare_0010
Create Date: 2026-11-30 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "homecare_0011"
down_revision: str | None = "homecare_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("recipient") as batch:
        batch.add_column(sa.Column("identity_fingerprint", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recipient") as batch:
        batch.drop_column("identity_fingerprint")
