"""public vocabulary: an institution's coordinates are latitude/longitude (issue 12)

Revision ID: registry_0004
Revises: registry_0003
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0004"
down_revision: str | None = "registry_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index("ix_institution_lat_lng")
        batch_op.alter_column("lat", new_column_name="latitude")
        batch_op.alter_column("lng", new_column_name="longitude")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.create_index("ix_institution_latitude_longitude", ["latitude", "longitude"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.drop_index("ix_institution_latitude_longitude")
        batch_op.alter_column("latitude", new_column_name="lat")
        batch_op.alter_column("longitude", new_column_name="lng")
    with op.batch_alter_table("institution", schema=None) as batch_op:
        batch_op.create_index("ix_institution_lat_lng", ["lat", "lng"], unique=False)
