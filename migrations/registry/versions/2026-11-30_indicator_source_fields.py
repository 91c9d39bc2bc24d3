"""老年友善医疗机构 recognition year; the elders' 绿色通道 and 老年友善 only on institutions with a medical
side (issue 13, what the source services must carry)

``elderly_friendly_year`` is added; ``elderly_friendly`` becomes derived from it (recognised ⇔ a year).
Data: the 绿色通道 flag is cleared on pure elderly-care institutions (kind ``elderly_care``: 养老机构,
农村幸福院, 日间照料中心) — the indicator counts graded medical institutions, and every home said yes; the
老年友善 flag is cleared where it cannot be derived (an elderly-care institution, or a recognition with no
year: the year must be entered again). Each count is logged.

Revision ID: registry_0007
Revises: registry_0006
Create Date: 2026-11-30 06:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0007"
down_revision: str | None = "registry_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

institution = sa.table(
    "institution",
    sa.column("kind", sa.String),
    sa.column("elderly_green_channel", sa.Boolean),
    sa.column("elderly_friendly", sa.Boolean),
    sa.column("elderly_friendly_year", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.add_column(sa.Column("elderly_friendly_year", sa.Integer(), nullable=True))
    bind = op.get_bind()
    cleared = bind.execute(
        sa.update(institution)
        .where(institution.c.kind == "elderly_care", institution.c.elderly_green_channel.is_(True))
        .values(elderly_green_channel=False)
    ).rowcount
    log.info(
        "registry_0007: 老年人绿色通道 cleared on %d elderly-care institutions (no medical side)", cleared
    )
    friendly = bind.execute(
        sa.update(institution)
        .where(institution.c.elderly_friendly.is_(True), institution.c.elderly_friendly_year.is_(None))
        .values(elderly_friendly=False)
    ).rowcount
    log.info(
        "registry_0007: 老年友善医疗机构 flag cleared on %d institutions without a recognition year "
        "(enter elderly_friendly_year to restore it; elderly-care institutions cannot hold it)",
        friendly,
    )


def downgrade() -> None:
    # the flag stays as derived (true where a year was recorded); the cleared flags are not restored
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_column("elderly_friendly_year")
