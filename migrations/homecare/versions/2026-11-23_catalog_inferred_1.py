"""Load the 39-item stand-in catalog as version ``inferred-1``.

The rows come from ``services/homecare/data/nursing_catalog_inferred.csv`` (a copy of the project's
domain notes; see the README there). Descriptions, nurse titles and price guidance are not in the file
and stay empty. Skipped when the version is already there (e.g. loaded by the demo seed).

Revision ID: homecare_0002
Revises: homecare_0001
Create Date: 2026-11-23
"""

import csv
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision: str = "homecare_0002"
down_revision: str | None = "homecare_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSION_CODE = "inferred-1"
SOURCE = (
    "nursing_catalog_inferred.csv — 39 项互联网+护理服务项目（推断版，非省级正式目录；"
    "正式目录发布后以新版本导入替换）"
)
CSV_PATH = (
    Path(__file__).resolve().parents[3] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"
)

catalog_version = sa.table(
    "catalog_version",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("sequence", sa.Integer()),
    sa.column("source", sa.String()),
    sa.column("note", sa.Text()),
    sa.column("published_at", sa.DateTime(timezone=True)),
    sa.column("published_by", sa.String()),
    sa.column("item_count", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)
catalog_item = sa.table(
    "catalog_item",
    sa.column("id", sa.Uuid()),
    sa.column("catalog_version_id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("category", sa.String()),
    sa.column("description", sa.Text()),
    sa.column("risk", sa.String()),
    sa.column("needs_medical_order", sa.Boolean()),
    sa.column("needs_specialist_training", sa.Boolean()),
    sa.column("required_title", sa.String()),
    sa.column("price_min_yuan", sa.Numeric(10, 2)),
    sa.column("price_max_yuan", sa.Numeric(10, 2)),
    sa.column("source", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("version", sa.Integer()),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.select(catalog_version.c.id).where(catalog_version.c.code == VERSION_CODE)).first():
        return
    with CSV_PATH.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    now = datetime.now(UTC)
    version_id = uuid.uuid4()
    op.bulk_insert(
        catalog_version,
        [
            {
                "id": version_id,
                "code": VERSION_CODE,
                "sequence": 1,
                "source": SOURCE,
                "note": "由数据迁移 homecare_0002 载入",
                "published_at": now,
                "published_by": "migration:homecare_0002",
                "item_count": len(rows),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
        ],
    )
    op.bulk_insert(
        catalog_item,
        [
            {
                "id": uuid.uuid4(),
                "catalog_version_id": version_id,
                "code": row["code"],
                "name": row["name"],
                "category": row["category"],
                "description": None,
                "risk": row["risk"],
                "needs_medical_order": row["needs_medical_order"] == "true",
                "needs_specialist_training": row["needs_specialist_training"] == "true",
                "required_title": None,
                "price_min_yuan": None,
                "price_max_yuan": None,
                "source": row["source"],
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for row in rows
        ],
    )


def downgrade() -> None:
    bind = op.get_bind()
    version_id = bind.execute(
        sa.select(catalog_version.c.id).where(catalog_version.c.code == VERSION_CODE)
    ).scalar()
    if version_id is not None:
        op.execute(catalog_item.delete().where(catalog_item.c.catalog_version_id == version_id))
        op.execute(catalog_version.delete().where(catalog_version.c.id == version_id))
