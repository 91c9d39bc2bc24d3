"""Nearby institutions from the index alone (issue 16, growth with data): the (latitude, longitude) index
becomes (latitude, longitude, active, region_code, kind, category, id), so that the candidates of the
bounding box — their id and coordinates, filtered on active, scope, kind and category — are read without
visiting a table page each (at 30,000 institutions: 1,427 candidates around Xiamen, 1,029 pages read →
41 index pages, an index-only scan once vacuumed).

Revision ID: registry_0013
Revises: registry_0012
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0013"
down_revision: str | None = "registry_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["latitude", "longitude", "active", "region_code", "kind", "category", "id"]


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index("ix_institution_latitude_longitude")
        batch_op.create_index("ix_institution_nearby", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index("ix_institution_nearby")
        batch_op.create_index("ix_institution_latitude_longitude", ["latitude", "longitude"], unique=False)
