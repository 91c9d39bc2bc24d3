"""示范 self-assessment items follow the work plan's criteria (issue 14; seed 004, 三、创建标准): six for a
county, five for an institution. Stored items of the stand-in form move to their heading, as the API now
folds them (``DEPRECATED_ITEMS``): a county's ``staffing`` into ``support``; an institution's
``basic_conditions`` → ``facilities``, ``service_capacity`` and ``quality_safety`` → ``service_quality``
(texts joined in that order), ``social_evaluation`` → ``service_outcomes``. Attachments tagged with an
old item are re-tagged. The downgrade cannot split joined texts; it leaves the rows as they are.

Revision ID: registry_0010
Revises: registry_0009
Create Date: 2026-12-01 10:00:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0010"
down_revision: str | None = "registry_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

RENAMES = {
    "county": (("staffing", "support"),),
    "institution": (
        ("basic_conditions", "facilities"),
        ("service_capacity", "service_quality"),
        ("quality_safety", "service_quality"),
        ("social_evaluation", "service_outcomes"),
    ),
}


def upgrade() -> None:
    bind = op.get_bind()
    moved = 0
    for kind, pairs in RENAMES.items():
        for old, new in pairs:
            rows = bind.execute(
                sa.text(
                    "SELECT i.id, i.application_id, i.text FROM demonstration_assessment_item i "
                    "JOIN demonstration_application a ON a.id = i.application_id "
                    "WHERE a.kind = :kind AND i.item = :old ORDER BY i.application_id"
                ),
                {"kind": kind, "old": old},
            ).all()
            for row_id, application_id, text in rows:
                target = bind.execute(
                    sa.text(
                        "SELECT id, text FROM demonstration_assessment_item "
                        "WHERE application_id = :application AND item = :new"
                    ),
                    {"application": application_id, "new": new},
                ).first()
                if target is None:
                    bind.execute(
                        sa.text("UPDATE demonstration_assessment_item SET item = :new WHERE id = :id"),
                        {"new": new, "id": row_id},
                    )
                else:
                    if text.strip() not in target.text:
                        bind.execute(
                            sa.text("UPDATE demonstration_assessment_item SET text = :text WHERE id = :id"),
                            {"text": f"{target.text}\n\n{text}", "id": target.id},
                        )
                    bind.execute(
                        sa.text("DELETE FROM demonstration_assessment_item WHERE id = :id"), {"id": row_id}
                    )
                moved += 1
            bind.execute(
                sa.text(
                    "UPDATE demonstration_attachment SET item = :new WHERE item = :old AND application_id IN "
                    "(SELECT id FROM demonstration_application WHERE kind = :kind)"
                ),
                {"new": new, "old": old, "kind": kind},
            )
    log.info("registry_0010: %d self-assessment items moved to the work plan's headings", moved)


def downgrade() -> None:
    """Joined texts cannot be split again: the rows stay under the work plan's headings."""
