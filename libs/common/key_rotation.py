"""Personal-data key rotation: move every encrypted value of a service's database to the primary key.

Rotation without downtime (docs/OPERATIONS.md):

1. Add the new key to ``<PREFIX>PERSONAL_DATA_KEYS`` and make it ``<PREFIX>PERSONAL_DATA_PRIMARY_KEY_ID``,
   keeping the old one; roll the replicas. New writes are encrypted with the new key, every key decrypts.
2. Run ``python -m libs.common.key_rotation <service>`` (same environment as the service; in an image:
   ``entrypoint.sh python -m libs.common.key_rotation <service>``). It re-encrypts, in batches, each value
   not under the primary key, and prints what it moved. Run it again until it reports nothing to do
   (a replica still on the old configuration may have written under the old key meanwhile).
3. Remove the old key from ``<PREFIX>PERSONAL_DATA_KEYS``; roll the replicas.

What is encrypted is found in the database itself (no service import): the binary columns whose name
ends in ``_enc`` (the convention of every service's models; tests/common/test_key_rotation.py checks
every binary column of every service against it) and ``idempotency_record.response_body``.

Each row is rewritten by a compare-and-set ``UPDATE … WHERE <key> = … AND <column> = <old blob>``, so a
value a request changed meanwhile is left alone (it was written under the primary key). Rows keep their
``version``, ``updated_at`` and feed position: the plaintext did not change, clients' ETags stay valid
and nothing goes to the change feed. The blind-index lookup key (``<PREFIX>PERSONAL_DATA_LOOKUP_KEY``) is
not rotated by this: the ``*_hash`` columns stay valid as long as it stays the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic_settings import SettingsConfigDict
from sqlalchemy import Column, LargeBinary, MetaData, Table, and_, select, update
from sqlalchemy.engine import Connection

from libs.common.database import Database
from libs.common.keys import personal_data_cipher
from libs.common.personal_data import DecryptionError, PersonalDataCipher
from libs.common.settings import ServiceSettings

ENCRYPTED_SUFFIX = "_enc"
#: encrypted columns that do not follow the ``_enc`` naming (libs/common's own tables)
ENCRYPTED_EXTRA: frozenset[tuple[str, str]] = frozenset({("idempotency_record", "response_body")})


@dataclass
class Rotation:
    """What a run did, per table: values re-encrypted; values that no configured key decrypts."""

    moved: dict[str, int] = field(default_factory=dict)
    undecryptable: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.moved.values())


def is_encrypted_column(table: str, column: Column[object]) -> bool:
    return isinstance(column.type, LargeBinary) and (
        column.name.endswith(ENCRYPTED_SUFFIX) or (table, column.name) in ENCRYPTED_EXTRA
    )


def _reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)  # the service's schema (PostgreSQL: the search_path), or the file
    return metadata


async def encrypted_tables(database: Database) -> list[tuple[Table, list[Column[object]]]]:
    async with database.engine.connect() as connection:
        metadata = await connection.run_sync(_reflect)
    found = []
    for table in metadata.sorted_tables:
        columns = [column for column in table.columns if is_encrypted_column(table.name, column)]
        if columns and len(table.primary_key.columns) == 1:
            found.append((table, columns))
        elif columns:
            raise RuntimeError(f"{table.name}: encrypted columns need a single-column primary key")
    return found


async def reencrypt(database: Database, cipher: PersonalDataCipher, *, batch_size: int = 500) -> Rotation:
    """Re-encrypt under ``cipher``'s primary key every encrypted value that is under another key."""
    result = Rotation()
    for table, columns in await encrypted_tables(database):
        key = next(iter(table.primary_key.columns))
        moved = undecryptable = 0
        after: object = None
        while True:
            query = select(key, *columns).order_by(key).limit(batch_size)
            if after is not None:
                query = query.where(key > after)
            async with database.engine.begin() as connection:  # one short transaction per batch
                rows = (await connection.execute(query)).all()
                for row in rows:
                    changes: dict[str, bytes] = {}
                    guards = [key == row[0]]
                    for index, column in enumerate(columns, start=1):
                        blob = row[index]
                        if blob is None or not cipher.needs_reencryption(blob):
                            continue
                        try:
                            changes[column.name] = cipher.encrypt(cipher.decrypt(blob))
                        except DecryptionError:
                            undecryptable += 1
                            continue
                        guards.append(column == blob)
                    if changes:
                        done = await connection.execute(update(table).where(and_(*guards)).values(changes))
                        moved += len(changes) if done.rowcount == 1 else 0
            if len(rows) < batch_size:
                break
            after = rows[-1][0]
        result.moved[table.name] = moved
        if undecryptable:
            result.undecryptable[table.name] = undecryptable
    return result


def settings_for(service: str) -> ServiceSettings:
    """The settings a service reads for its database and personal-data keys (``<SERVICE>_…``)."""

    class Settings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix=f"{service.upper()}_", extra="ignore")

    return Settings(service_name=service)


async def run(settings: ServiceSettings, cipher: PersonalDataCipher, *, batch_size: int) -> Rotation:
    database = Database(settings)
    try:
        return await reencrypt(database, cipher, batch_size=batch_size)
    finally:
        await database.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m libs.common.key_rotation",
        description="把服务数据库中的个人信息密文改用当前主密钥加密（密钥轮换第 2 步）",
    )
    parser.add_argument("service", help="gateway, registry, contracts, homecare, indicators, residents")
    parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    args = parser.parse_args(argv)
    settings = settings_for(args.service)
    cipher = personal_data_cipher(settings)
    rotation = asyncio.run(run(settings, cipher, batch_size=args.batch_size))
    print(
        json.dumps(
            {
                "service": args.service,
                "primary_key_id": cipher.primary_key_id,
                "reencrypted": rotation.moved,
                "undecryptable": rotation.undecryptable,
            },
            ensure_ascii=False,
        )
    )
    return 1 if rotation.undecryptable else 0


if __name__ == "__main__":
    sys.exit(main())
