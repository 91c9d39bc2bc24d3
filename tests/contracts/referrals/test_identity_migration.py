"""contracts_0008 (issue 19): the referral resident's columns become nullable; a referral already linked to
its person has its copy cleared (the residents hold it), one not linked keeps it and the migration logs how
many (the linking command links them after); the downgrade refuses once copies were cleared."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.keys import personal_data_cipher
from libs.common.migrations import alembic_config
from libs.common.testing import TestDatabases, make_settings
from services.contracts.referrals.models import Referral
from services.contracts.settings import ContractsSettings

COPIES = ("resident_name_enc", "resident_id_number_enc", "resident_id_hash", "resident_phone_enc")


def _row(cipher: Any, *, person_id: uuid.UUID | None, number: str, state: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    institution = uuid.uuid4()
    return {
        "id": uuid.uuid4(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "agreement_id": uuid.uuid4(),
        "direction": "up",
        "urgency": "routine",
        "from_institution_id": institution,
        "to_institution_id": uuid.uuid4(),
        "medical_institution_id": uuid.uuid4(),
        "elderly_institution_id": institution,
        "region_code": "350206",
        "person_id": person_id,
        "state": state,
        "reason": "夜间突发胸闷",
        "resident_name_enc": cipher.encrypt("陈阿婆"),
        "resident_id_number_enc": cipher.encrypt(number),
        "resident_id_hash": cipher.lookup_hash(number, "id_card"),
        "resident_phone_enc": cipher.encrypt("13906001015"),
        "requested_at": now,
        "requested_by": "test",
        "accepted_at": None,
        "admitted_at": None,
        "returned_at": None,
        "closed_at": None,
        "close_reason": None,
        "source_system": None,
        "external_id": None,
        "source_hash": None,
    }


async def test_linked_copies_are_cleared_unlinked_kept_and_counted(
    test_databases: TestDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        ContractsSettings,
        test_databases,
        database_schema="contracts_0008_check",
        database_url=test_databases.url_for("contracts_0008_check"),
    )
    config = alembic_config(settings)
    await asyncio.to_thread(command.upgrade, config, "contracts_0007")
    cipher = personal_data_cipher(settings)
    linked = _row(cipher, person_id=uuid.uuid4(), number="350206194001010021", state="requested")
    unlinked = [
        _row(cipher, person_id=None, number=n, state="returned")
        for n in ("350206194001010048", "350206194001010064")
    ]
    table = sa.Table(
        "referral",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in Referral.__table__.columns if c.name != "resident_fingerprint"),
    )
    engine = create_async_engine(settings.database_url)
    table.schema = settings.database_schema if engine.dialect.name == "postgresql" else None
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # the rows' agreements are not the point here
                await connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
            await connection.execute(sa.insert(table), [linked, *unlinked])
        with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
            await asyncio.to_thread(command.upgrade, config, "contracts_0008")
        async with engine.connect() as connection:
            rows = {r.id: r for r in (await connection.execute(sa.select(table))).all()}
        with pytest.raises(RuntimeError, match="hold no resident copy"):
            await asyncio.to_thread(command.downgrade, config, "contracts_0007")
    finally:
        await engine.dispose()
    for column in COPIES:
        assert getattr(rows[linked["id"]], column) is None, column
        for row in unlinked:
            assert getattr(rows[row["id"]], column) == row[column], column
    assert rows[linked["id"]].person_id == linked["person_id"]
    assert rows[linked["id"]].reason == "夜间突发胸闷"  # the referral's own data stays
    messages = [r.getMessage() for r in caplog.records]
    assert any("resident copies cleared of 1 referrals" in m for m in messages), messages
    assert any("2 referrals are not linked" in m for m in messages), messages
