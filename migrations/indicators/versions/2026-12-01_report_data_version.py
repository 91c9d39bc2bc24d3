"""report_data_version: one counter moved by triggers on every table the reports read (issue 16)

The reports' response cache (``services/indicators/reports/version.py``) keys a page by this counter:
every INSERT, UPDATE, DELETE (and TRUNCATE, PostgreSQL) of a fact table or of the reference data adds 1
to it in the writing transaction, whoever writes (the followers, the rebuild, a reference load, the demo
seed, psql). ``feed_cursor`` moves it only when what the reports read of it changes: a feed's row
appears or goes, or its ``last_seq`` becomes set or unset (``live_feeds``); the followers' bookkeeping
of every poll (attempt times, errors) does not.

PostgreSQL: one statement-level trigger per table and a row-level one on ``feed_cursor`` updates (the
condition needs OLD and NEW); the function moves the counter once per transaction. SQLite has row-level
triggers only: one per table and operation, each row's write bumps the counter (one writer at a time,
no row versions).

Revision ID: indicators_0009
Revises: indicators_0008
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "indicators_0009"
down_revision: str | None = "indicators_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: every table the reports read in full: the facts of the four feeds and the reference data
TABLES = (
    "institution",
    "institution_year_stat",
    "filing",
    "agreement",
    "round_visit",
    "referral",
    "home_bed",
    "care_order",
    "order_rating",
    "resident_signing",
    "resident_checkup",
    "resident_assessment",
    "reference_version",
    "population",
    "target",
)
BUMP = "UPDATE report_data_version SET counter = counter + 1 WHERE id = 1"
#: what the reports read of feed_cursor: which feeds have delivered an entry (last_seq set)
CURSOR_CHANGED = "(OLD.last_seq IS NULL) <> (NEW.last_seq IS NULL) OR OLD.feed <> NEW.feed"


def upgrade() -> None:
    op.create_table(
        "report_data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_data_version")),
    )
    op.execute("INSERT INTO report_data_version (id, counter) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql()
    else:
        _sqlite()


def _postgresql() -> None:
    # once per transaction: a transaction-local flag says this one has moved the counter already (one
    # new version of the counter's row per writing transaction, not one per statement: a page applied
    # by executemany is hundreds of statements, and a row updated that often in one transaction makes
    # every later update and read of it walk the versions). A savepoint rolled back undoes the flag with
    # the bump. The table is named with the service's schema (the migration's search_path), so the
    # function finds it whatever the writer's search_path.
    schema = op.get_bind().exec_driver_sql("SELECT current_schema()").scalar_one()
    flag = f"report_data_version.moved_in_{schema}"  # a custom setting, local to the transaction
    op.execute(
        "CREATE FUNCTION report_data_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF current_setting('{flag}', true) IS DISTINCT FROM 'on' THEN "
        f'UPDATE "{schema}".report_data_version SET counter = counter + 1 WHERE id = 1; '
        f"PERFORM set_config('{flag}', 'on', true); "
        "END IF; RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_report_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION report_data_version_bump()"
        )
    op.execute(
        "CREATE TRIGGER feed_cursor_report_data_version AFTER INSERT OR DELETE OR TRUNCATE ON feed_cursor "
        "FOR EACH STATEMENT EXECUTE FUNCTION report_data_version_bump()"
    )
    op.execute(
        "CREATE TRIGGER feed_cursor_report_data_version_update AFTER UPDATE ON feed_cursor FOR EACH ROW "
        f"WHEN ({CURSOR_CHANGED}) EXECUTE FUNCTION report_data_version_bump()"
    )


def _sqlite() -> None:
    for table in TABLES:
        for operation in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_report_data_version_{operation.lower()} AFTER {operation} "
                f"ON {table} BEGIN {BUMP}; END"
            )
    for operation in ("INSERT", "DELETE"):
        op.execute(
            f"CREATE TRIGGER feed_cursor_report_data_version_{operation.lower()} AFTER {operation} "
            f"ON feed_cursor BEGIN {BUMP}; END"
        )
    op.execute(
        "CREATE TRIGGER feed_cursor_report_data_version_update AFTER UPDATE ON feed_cursor "
        f"FOR EACH ROW WHEN {CURSOR_CHANGED} BEGIN {BUMP}; END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*TABLES, "feed_cursor"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_report_data_version ON {table}")
        op.execute("DROP TRIGGER IF EXISTS feed_cursor_report_data_version_update ON feed_cursor")
        op.execute("DROP FUNCTION IF EXISTS report_data_version_bump()")
    else:
        for table in (*TABLES, "feed_cursor"):
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_report_data_version_{operation}")
    op.drop_table("report_data_version")
