"""A referral's resident is one person of the residents' person index (issue 19): ``referral.person_id``.

The residents service holds each elder's identity once (``POST /api/v1/residents/persons`` finds the
person by ID number or registers them; contracts calls it with its service token, audience ``residents``,
permission ``persons:write`` granted to ``service:contracts``). A new referral's resident names the person
when the referral is requested (``POST /referrals`` resolves the person first — a new person is
registered in the requesting institution's county — and answers 503 ``residents_unavailable`` when the
index cannot be reached: no referral is requested unlinked any more). Referrals requested before that,
or written by the bulk path for a resident the index did not hold yet, are linked by the linking
command, which clears their copies (the residents hold the identity):

    .venv/bin/python -m services.contracts.referrals.person_link      # CONTRACTS_* settings, like the app

It links every referral without a ``person_id`` and reports those it could not match, with the
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
from services.contracts.referrals.models import Referral

log = logging.getLogger(__name__)


async def person_of(index: PersonIndex, referral: Referral, cipher: PersonalDataCipher) -> uuid.UUID:
    """The person of a stored referral's resident (decrypted for the call only; a new person is
    registered in the referral's county)."""
    if referral.resident_name_enc is None or referral.resident_id_number_enc is None:
        raise PersonNotMatched("person_refused", "转诊记录既未关联居民，也没有老人信息副本")
    return await index.find_or_create(
        name=cipher.decrypt(referral.resident_name_enc),
        id_number=cipher.decrypt(referral.resident_id_number_enc),
        region_code=referral.region_code,
        phone=cipher.decrypt(referral.resident_phone_enc) if referral.resident_phone_enc else None,
        address=None,
    )


@dataclass
class LinkReport:
    linked: int = 0
    unmatched: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)  # (referral, code, detail)


async def link_existing(
    database: Database, index: PersonIndex, cipher: PersonalDataCipher, *, batch: int = 200
) -> LinkReport:
    """Link every referral without a person; one transaction per batch.
    Raises ``PersonIndexUnavailable`` when the index is unreachable (what was linked so far stays linked)."""
    report = LinkReport()
    after: uuid.UUID | None = None
    while True:
        async with session_scope(database) as session:
            stmt = select(Referral).where(Referral.person_id.is_(None)).order_by(Referral.id).limit(batch)
            if after is not None:
                stmt = stmt.where(Referral.id > after)
            rows = list((await session.scalars(stmt)).all())
            for referral in rows:
                try:
                    referral.person_id = await person_of(index, referral, cipher)
                    # linked: the residents hold the identity, the copy goes (issue 19, contracts_0008)
                    referral.resident_name_enc = None
                    referral.resident_id_number_enc = None
                    referral.resident_id_hash = None
                    referral.resident_phone_enc = None
                    report.linked += 1
                except PersonNotMatched as exc:
                    report.unmatched.append((referral.id, exc.code, exc.detail))
        if len(rows) < batch:
            return report
        after = rows[-1].id


async def _main(make_tokens: Callable[[httpx.AsyncClient], ServiceTokenSource] | None = None) -> int:
    from services.contracts.app import SERVICE_CLIENT_ID
    from services.contracts.settings import ContractsSettings

    argparse.ArgumentParser(
        description="将未关联的转诊老人关联到居民主索引，并报告无法匹配的记录"
    ).parse_args()
    settings = ContractsSettings()
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
    print(f"已关联 {report.linked} 条转诊的老人；无法匹配 {len(report.unmatched)} 条")
    for referral_id, code, detail in report.unmatched:
        print(f"{referral_id}\t{code}\t{detail}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
