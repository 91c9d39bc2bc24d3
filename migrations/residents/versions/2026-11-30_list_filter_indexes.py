"""list filter indexes: every filter the check-up, assessment and care-service lists offer has one (issue 19)

``GET /checkups?standard=`` (``(standard, year)``), ``GET /assessments?level=`` (``(level,
assessed_date)``) and ``?assessed_from=/assessed_to=`` alone (``assessed_date``), ``GET
/care-services?window=`` without a year (``(window_number, year)``) and ``?region_code=`` alone
(``(region_code, service_date)``). The other filters already lead an index: ``person_id`` (the unique
``(person_id, year)`` and the ``person_id`` indexes), ``year`` and ``region_code`` (``(year, …)``,
``(region_code, …)``).

Revision ID: residents_0004
Revises: residents_0003
Create Date: 2026-11-30 13:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "residents_0004"
down_revision: str | None = "residents_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_checkup_standard_year", "checkup", ["standard", "year"])
    op.create_index("ix_assessment_level_assessed_date", "assessment", ["level", "assessed_date"])
    op.create_index("ix_assessment_assessed_date", "assessment", ["assessed_date"])
    op.create_index("ix_care_service_window_number_year", "care_service", ["window_number", "year"])
    op.create_index(
        "ix_care_service_region_code_service_date", "care_service", ["region_code", "service_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_care_service_region_code_service_date", table_name="care_service")
    op.drop_index("ix_care_service_window_number_year", table_name="care_service")
    op.drop_index("ix_assessment_assessed_date", table_name="assessment")
    op.drop_index("ix_assessment_level_assessed_date", table_name="assessment")
    op.drop_index("ix_checkup_standard_year", table_name="checkup")
