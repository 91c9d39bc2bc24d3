"""homecare_0010 (issue 19): the recipients' identity columns become nullable; a recipient already linked
to its person has its copy cleared (the residents hold it), one not linked keeps it and the migration logs
how many (the linking command links them after); the downgrade refuses once copies were cleared."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.keys import personal_data_cipher
from libs.common.migrations import alembic_config
from libs.common.testing import TestDatabases, make_settings
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient
from services.homecare.settings import HomecareSettings


def _row(cipher: Any, *, person_id: uuid.UUID | None, number: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "institution_id": None,
        "person_id": person_id,
        "region_code": "350206",
        "name_enc": cipher.encrypt("陈阿婆"),
        "id_number_enc": cipher.encrypt(number),
        "id_number_hash": cipher.lookup_hash(number, "id_card"),
        "phone_enc": cipher.encrypt("13906001015"),
        "address_enc": cipher.encrypt("福建省厦门市湖里区江头街道台湾街 88 号"),
        "latitude": 24.5,
        "longitude": 118.1,
        "birth_date": date(1940, 1, 1),
        "sex": "female",
        "disability_level": 2,
        "dementia": False,
        "chronic_diseases": [],
        "emergency_contact_name_enc": None,
        "emergency_contact_relation": None,
        "emergency_contact_phone_enc": None,
        "consent_given_at": now,
        "consent_method": "written",
        "consent_signed_by": "self",
        "consent_document_sha256": None,
        "source_system": None,
        "external_id": None,
        "created_by_sub": "test",
        "elder_code_hash": None,
        "elder_code_issued_at": None,
    }


async def test_linked_copies_are_cleared_unlinked_kept_and_counted(
    test_databases: TestDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        HomecareSettings,
        test_databases,
        database_schema="homecare_0010_check",
        database_url=test_databases.url_for("homecare_0010_check"),
    )
    config = alembic_config(settings)
    await asyncio.to_thread(command.upgrade, config, "homecare_0009")
    cipher = personal_data_cipher(settings)
    linked = _row(cipher, person_id=uuid.uuid4(), number="350206194001010021")
    unlinked = [_row(cipher, person_id=None, number=n) for n in ("350206194001010048", "350206194001010064")]
    table = sa.Table(  # the columns of homecare_0010 (identity_fingerprint came with homecare_0011)
        "recipient",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in Recipient.__table__.columns if c.name != "identity_fingerprint"),
    )
    engine = create_async_engine(settings.database_url)
    table.schema = settings.database_schema if engine.dialect.name == "postgresql" else None
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(table), [linked, *unlinked])
        with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
            await asyncio.to_thread(command.upgrade, config, "homecare_0010")
        async with engine.connect() as connection:
            rows = {r.id: r for r in (await connection.execute(sa.select(table))).all()}
        with pytest.raises(RuntimeError, match="hold no identity copy"):
            await asyncio.to_thread(command.downgrade, config, "homecare_0009")
    finally:
        await engine.dispose()
    for column in IDENTITY_COLUMNS:
        assert getattr(rows[linked["id"]], column) is None, column
        for row in unlinked:
            assert getattr(rows[row["id"]], column) == row[column], column
    assert rows[linked["id"]].person_id == linked["person_id"]
    assert rows[linked["id"]].disability_level == 2  # the care data stays
    messages = [r.getMessage() for r in caplog.records]
    assert any("identity copies cleared of 1 recipients" in m for m in messages), messages
    assert any("2 recipients are not linked to their person" in m for m in messages), messages
