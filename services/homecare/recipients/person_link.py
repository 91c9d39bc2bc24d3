"""A recipient is one person of the residents' person index (issue 19): ``recipient.person_id``.

The residents service holds each elder's identity once (``POST /api/v1/residents/persons`` finds the
person by ID number or registers them; homecare calls it with its service token, audience ``residents``,
permission ``persons:write`` granted to ``service:homecare``). A new recipient names its person when it is
registered (``POST /recipients`` resolves the person first and answers 503 ``residents_unavailable``
when the index cannot be reached: no recipient is registered unlinked any more). Recipients registered
before that — or unlinked by the city bulk sync — are linked by the linking command:

    .venv/bin/python -m services.homecare.recipients.person_link      # HOMECARE_* settings, like the app

It links every recipient without a ``person_id`` — its person found or registered from its copy, a
thousand recipients a ``POST /residents/persons/bulk`` call (``libs/common/person_linking.py``) — and
clears its copy of the identity: from then on the residents hold it — and reports those it could not
match, with the
person index's reason: ``person_name_mismatch`` (the ID number belongs to a person of another name),
``person_refused`` (the index refused the record, e.g. an invalid ID number). Exit status 1 when the
index is unreachable (nothing more is tried).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable

import httpx

from libs.common.bulk import DEFAULT_MAX_RECORDS
from libs.common.database import Database
from libs.common.errors import UpstreamError
from libs.common.http_client import ServiceTokenSource, make_http_client
from libs.common.keys import personal_data_cipher
from libs.common.person_index import NamedPerson, PersonIndex, PersonIndexUnavailable
from libs.common.person_linking import LinkReport, link_unlinked
from libs.common.personal_data import PersonalDataCipher
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient

log = logging.getLogger(__name__)


def identity_of(recipient: Recipient, cipher: PersonalDataCipher) -> NamedPerson | None:
    """The person a stored recipient's own copy names (decrypted for the call only; None: no copy)."""
    name, id_number = cipher.decrypt(recipient.name_enc), cipher.decrypt(recipient.id_number_enc)
    if name is None or id_number is None:
        return None
    address = cipher.decrypt(recipient.address_enc)
    return NamedPerson(
        name=name,
        id_number=id_number,
        region_code=recipient.region_code,
        phone=cipher.decrypt(recipient.phone_enc),
        address=address if address and len(address) >= 4 else None,
    )


def clear_identity(recipient: Recipient) -> None:
    """A linked recipient's identity is the person's: its own copy goes."""
    for column in IDENTITY_COLUMNS:
        setattr(recipient, column, None)


async def link_existing(
    database: Database, index: PersonIndex, cipher: PersonalDataCipher, *, batch: int = DEFAULT_MAX_RECORDS
) -> LinkReport:
    """Link every recipient without a person: ``batch`` at a time, their persons found or registered in
    ONE ``POST /residents/persons/bulk`` call and one transaction a batch (source ``homecare:link``).
    Raises ``PersonIndexUnavailable`` when the index is unreachable (what was linked so far stays linked)."""
    return await link_unlinked(
        database,
        Recipient,
        index,
        cipher,
        service="homecare",
        identity=lambda recipient: identity_of(recipient, cipher),
        clear=clear_identity,
        batch=batch,
    )


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
