"""order list: (institution_id, id) so an institution's page walks its own orders in list order (issue 16)

``GET /orders`` pages by ``id``; an institution's user sees ``institution_id = :own``. With an index on
``institution_id`` alone PostgreSQL either sorts every order of the institution (tens of thousands at
scale L) or walks the primary key and discards the other institutions' orders; on
``(institution_id, id)`` the page is the index's next 51 entries. It replaces the single-column index
(its prefix serves every other ``institution_id =`` lookup).

Revision ID: homecare_0005
Revises: homecare_0004
Create Date: 2026-11-30 12:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "homecare_0005"
down_revision: str | None = "homecare_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_service_order_institution_page", "service_order", ["institution_id", "id"])
    op.drop_index("ix_service_order_institution_id", table_name="service_order")


def downgrade() -> None:
    op.create_index("ix_service_order_institution_id", "service_order", ["institution_id"])
    op.drop_index("ix_service_order_institution_page", table_name="service_order")
