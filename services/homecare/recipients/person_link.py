"""A recipient is one person of the residents' person index (issue 19): ``recipient.person_id``.

The residents service holds each elder's identity once (``POST /api/v1/residents/persons`` finds the
person by ID number or registers them; homecare calls it with its service token, audience ``residents``,
permission ``persons:write`` granted to ``service:homecare``). A new recipient names its person when it is
registered (``POST /recipients`` resolves the person first and answers 503 ``residents_unavailable``
when the index cannot be reached: no recipient is registered unlinked any more). Recipients registered
before that — or unlinked by the city bulk sync — are linked by the linking command:

    .venv/bin/python -m services.homecare.recipients.person_link      # HOMECARE_* settings, like the app

It links every recipient without a ``person_id`` — and clears its copy of the identity: from then on the
residents hold it — and reports those it could not match, with the
person index's reason: ``person_name_mismatch`` (the ID number belongs to a person of another name),
``person_refused`` (the index refused the record, e.g. an invalid ID number). Exit status 1 when the
index is unreachable (nothing more is tried).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import select

from libs.common.database import Database, session_scope
from libs.common.errors import UpstreamError
from libs.common.http_client import ServiceTokenSource, make_http_client
from libs.common.keys import personal_data_cipher
from libs.common.person_index import PersonIndex, PersonIndexUnavailable, PersonNotMatched
from libs.common.personal_data import PersonalDataCipher
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient

log = logging.getLogger(__name__)


async def person_of(index: PersonIndex, recipient: Recipient, cipher: PersonalDataCipher) -> uuid.UUID:
    """The person of a stored recipient (its own copy of the identity, decrypted for the call only)."""
    name, id_number = cipher.decrypt(recipient.name_enc), cipher.decrypt(recipient.id_number_enc)
    if name is None or id_number is None:
        raise PersonNotMatched("identity_missing", "该记录既未关联居民，也没有身份信息")
    return await index.find_or_create(
        name=name,
        id_number=id_number,
        region_code=recipient.region_code,
        phone=cipher.decrypt(recipient.phone_enc),
        address=cipher.decrypt(recipient.address_enc),
    )


def clear_identity(recipient: Recipient) -> None:
    """A linked recipient's identity is the person's: its own copy goes."""
    for column in IDENTITY_COLUMNS:
        setattr(recipient, column, None)


@dataclass
class LinkReport:
    linked: int = 0
    unmatched: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)  # (recipient, code, detail)


async def link_existing(
    database: Database, index: PersonIndex, cipher: PersonalDataCipher, *, batch: int = 200
) -> LinkReport:
    """Link every recipient without a person; one transaction per batch.
    Raises ``PersonIndexUnavailable`` when the index is unreachable (what was linked so far stays linked)."""
    report = LinkReport()
    after: uuid.UUID | None = None
    while True:
        async with session_scope(database) as session:
            stmt = select(Recipient).where(Recipient.person_id.is_(None)).order_by(Recipient.id).limit(batch)
            if after is not None:
                stmt = stmt.where(Recipient.id > after)
            rows = list((await session.scalars(stmt)).all())
            for recipient in rows:
                try:
                    recipient.person_id = await person_of(index, recipient, cipher)
                    clear_identity(recipient)
                    report.linked += 1
                except PersonNotMatched as exc:
                    report.unmatched.append((recipient.id, exc.code, exc.detail))
        if len(rows) < batch:
            return report
        after = rows[-1].id


async def _main(make_tokens: Callable[[httpx.AsyncClient], ServiceTokenSource] | None = None) -> int:
    from services.homecare.app import SERVICE_CLIENT_ID
    from services.homecare.settings import HomecareSettings

    argparse.ArgumentParser(
        description="将未关联的服务对象关联到居民主索引，并报告无法匹配的记录"
    ).parse_args()
    settings = HomecareSettings()
    database = Database(settings)
    http = make_http_client(settings.gateway_url, settings.upstream_timeout_seconds)
    tokens = (make_tokens or (lambda h: ServiceTokenSource(
        h, client_id=SERVICE_CLIENT_ID, client_secret=settings.service_client_secret, audience="residents"
    )))(http)  # fmt: skip
    try:
        report = await link_existing(database, PersonIndex(http, tokens), personal_data_cipher(settings))
    except (UpstreamError, PersonIndexUnavailable) as exc:
        print(f"居民主索引不可用：{exc.code} {exc.detail}", file=sys.stderr)
        return 1
    finally:
        await http.aclose()
        await database.dispose()
    print(f"已关联 {report.linked} 名服务对象；无法匹配 {len(report.unmatched)} 名")
    for recipient_id, code, detail in report.unmatched:
        print(f"{recipient_id}\t{code}\t{detail}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
