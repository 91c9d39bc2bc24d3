"""A recipient's identity is held by the residents' person index (issue 19)

The identity columns (name, ID number and its blind index, phone, address, birth date, sex) become
nullable; a recipient already linked to its person (``person_id`` set) has its copy cleared — the
residents hold it. A recipient not linked yet keeps its copy: the migration logs how many, and
``python -m services.homecare.recipients.person_link`` (run after) links them, clears their copies and
reports those it could not match (a migration cannot call another service, and the two services' blind
indexes use different keys).

Downgrade restores the NOT NULL constraints only while no copy was cleared (the cleared identities are in
the residents, not here): otherwise it refuses.

Revision ID: homecare_0010
Revises: homecare_0009
Create Date: 2026-11-30 16:10:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "homecare_0010"
down_revision: str | None = "homecare_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

# the identity's columns that were NOT NULL (phone_enc always allowed NULL)
_REQUIRED: tuple[tuple[str, sa.types.TypeEngine[object]], ...] = (
    ("name_enc", sa.LargeBinary()),
    ("id_number_enc", sa.LargeBinary()),
    ("id_number_hash", sa.String(length=64)),
    ("address_enc", sa.LargeBinary()),
    ("birth_date", sa.Date()),
    ("sex", sa.String(length=6)),
)
_CLEARED = ", ".join(f"{name} = NULL" for name, _ in _REQUIRED) + ", phone_enc = NULL"


def upgrade() -> None:
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        for name, type_ in _REQUIRED:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
    bind = op.get_bind()
    cleared = bind.execute(sa.text(f"UPDATE recipient SET {_CLEARED} WHERE person_id IS NOT NULL")).rowcount
    unlinked = bind.execute(sa.text("SELECT count(*) FROM recipient WHERE person_id IS NULL")).scalar_one()
    log.info("homecare_0010: identity copies cleared of %s recipients linked to their person", cleared)
    if unlinked:
        log.warning(
            "homecare_0010: %s recipients are not linked to their person and keep their copy; run "
            "python -m services.homecare.recipients.person_link to link them and see those it cannot match",
            unlinked,
        )


def downgrade() -> None:
    bind = op.get_bind()
    cleared = bind.execute(sa.text("SELECT count(*) FROM recipient WHERE name_enc IS NULL")).scalar_one()
    if cleared:
        raise RuntimeError(
            f"homecare_0010: {cleared} recipients hold no identity copy (the residents hold it); "
            "a downgrade would have to fetch them back from the person index"
        )
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        for name, type_ in _REQUIRED:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
