"""an institution's year figures enter the change feed (issue 13): the indicators' 入住 100 人以上 rule
reads the residents of year Y, not today's figure

``institution_year_stat.region_code`` (the institution's county, the feed's scope) is added and filled;
every existing row gets one feed entry, as a write would have given it, so a follower reading the feed
from its start sees them. The count is logged.

Revision ID: registry_0008
Revises: registry_0007
Create Date: 2026-11-30 07:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from libs.common.changes import json_value
from libs.common.models import UTCDateTime, utcnow

revision: str = "registry_0008"
down_revision: str | None = "registry_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

PAYLOAD = (
    "institution_id",
    "year",
    "operating_beds",
    "occupied_bed_days",
    "residents",
    "disabled_residents",
    "dementia_residents",
    "disabled_or_dementia_residents",
    "version",
    "updated_at",
)
year_stat = sa.table(
    "institution_year_stat",
    sa.column("id", sa.Uuid()),
    sa.column("region_code", sa.String()),
    *(
        sa.column(
            name,
            UTCDateTime()
            if name == "updated_at"
            else sa.Uuid()
            if name == "institution_id"
            else sa.Integer(),
        )
        for name in PAYLOAD
    ),
)
change_record = sa.table(
    "change_record",
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.Uuid()),
    sa.column("op", sa.String()),
    sa.column("entity_version", sa.Integer()),
    sa.column("region_code", sa.String()),
    sa.column("institution_id", sa.Uuid()),
    sa.column("payload", sa.JSON()),
    sa.column("changed_at", UTCDateTime()),
)


def upgrade() -> None:
    with op.batch_alter_table("institution_year_stat", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=6), nullable=True))
    op.execute(
        sa.text(
            "UPDATE institution_year_stat SET region_code = (SELECT institution.region_code FROM institution "
            "WHERE institution.id = institution_year_stat.institution_id)"
        )
    )
    with op.batch_alter_table("institution_year_stat", schema=None) as batch_op:
        batch_op.alter_column("region_code", existing_type=sa.String(length=6), nullable=False)
        batch_op.create_index(
            batch_op.f("ix_institution_year_stat_region_code"), ["region_code"], unique=False
        )

    bind = op.get_bind()
    rows = bind.execute(sa.select(year_stat).order_by(year_stat.c.institution_id, year_stat.c.year)).all()
    now = utcnow()
    entries = [
        {
            "entity_type": "institution_year_stat",
            "entity_id": row.id,
            "op": "upsert",
            "entity_version": row.version,
            "region_code": row.region_code,
            "institution_id": row.institution_id,
            "payload": {name: json_value(getattr(row, name)) for name in PAYLOAD},
            "changed_at": now,
        }
        for row in rows
    ]
    if entries:
        bind.execute(sa.insert(change_record), entries)
    log.info("registry_0008: %d institution year figures entered the change feed", len(entries))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM change_record WHERE entity_type = 'institution_year_stat'"))
    with op.batch_alter_table("institution_year_stat", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_year_stat_region_code"))
        batch_op.drop_column("region_code")
