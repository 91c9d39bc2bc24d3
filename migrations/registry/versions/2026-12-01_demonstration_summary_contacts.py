"""示范 applications carry the 推荐汇总表's contact columns (issue 14): seed 004's attachments 4 and 5 list
for each applicant a 负责人 (a county: its government's contact) and a 联系人 (a county: its health
department's contact), each with a phone, and a postal address with its postcode. The columns are
nullable: applications written before keep empty cells until the applicant fills them.

Revision ID: registry_0009
Revises: registry_0008
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0009"
down_revision: str | None = "registry_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("head_name", 50),
    ("head_phone", 30),
    ("contact_phone", 30),
    ("postal_address", 200),
    ("postal_code", 6),
)


def upgrade() -> None:
    with op.batch_alter_table("demonstration_application") as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("demonstration_application") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
