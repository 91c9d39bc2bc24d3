"""A referral's resident identity is held by the residents' person index (issue 19)

The resident's columns (name, ID number and its blind index, phone) become nullable; a referral already
linked to its person (``person_id`` set) has its copy cleared — the residents hold it. One open referral
per person: a partial unique index on ``person_id`` beside the blind index's (which still holds the
unlinked ones). ``resident_fingerprint``: the keyed fingerprint of the resident a bulk record sent last
(a replay tells a changed resident without a copy). A referral not linked yet keeps its copy: the
migration logs how many, and ``python -m services.contracts.referrals.person_link`` (run after) links
them, clears their copies and reports those it could not match (a migration cannot call another service).

Downgrade restores the NOT NULL constraints only while no copy was cleared (the cleared identities are in
the residents, not here): otherwise it refuses.

Revision ID: contracts_0008
Revises: contracts_0007
Create Date: 2026-11-30 17:20:00
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "contracts_0008"
down_revision: str | None = "contracts_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

_REQUIRED: tuple[tuple[str, sa.types.TypeEngine[object]], ...] = (
    ("resident_name_enc", sa.LargeBinary()),
    ("resident_id_number_enc", sa.LargeBinary()),
    ("resident_id_hash", sa.String(length=64)),
)
_CLEARED = ", ".join(f"{name} = NULL" for name, _ in _REQUIRED) + ", resident_phone_enc = NULL"
_OPEN = "state IN ('requested', 'accepted', 'admitted')"


def upgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        for name, type_ in _REQUIRED:
            batch_op.alter_column(name, existing_type=type_, nullable=True)
        batch_op.add_column(sa.Column("resident_fingerprint", sa.String(length=64), nullable=True))
    op.create_index(
        "ux_referral_open_person",
        "referral",
        ["person_id"],
        unique=True,
        sqlite_where=sa.text(_OPEN),
        postgresql_where=sa.text(_OPEN),
    )
    bind = op.get_bind()
    cleared = bind.execute(sa.text(f"UPDATE referral SET {_CLEARED} WHERE person_id IS NOT NULL")).rowcount
    unlinked = bind.execute(sa.text("SELECT count(*) FROM referral WHERE person_id IS NULL")).scalar_one()
    log.info("contracts_0008: resident copies cleared of %s referrals linked to their person", cleared)
    if unlinked:
        log.warning(
            "contracts_0008: %s referrals are not linked to their resident's person and keep their copy; "
            "run python -m services.contracts.referrals.person_link to link them and see those it cannot "
            "match",
            unlinked,
        )


def downgrade() -> None:
    bind = op.get_bind()
    cleared = bind.execute(
        sa.text("SELECT count(*) FROM referral WHERE resident_name_enc IS NULL")
    ).scalar_one()
    if cleared:
        raise RuntimeError(
            f"contracts_0008: {cleared} referrals hold no resident copy (the residents hold it); "
            "a downgrade would have to fetch them back from the person index"
        )
    op.drop_index("ux_referral_open_person", table_name="referral")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_column("resident_fingerprint")
        for name, type_ in _REQUIRED:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
