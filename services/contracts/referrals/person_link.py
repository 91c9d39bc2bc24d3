"""A referral's resident is one person of the residents' person index (issue 19): ``referral.person_id``.

The residents service holds each elder's identity once (``POST /api/v1/residents/persons`` finds the
person by ID number or registers them; contracts calls it with its service token, audience ``residents``,
permission ``persons:write`` granted to ``service:contracts``). A new referral's resident names the person
when the referral is requested (``POST /referrals`` resolves the person first — a new person is
registered in the requesting institution's county — and answers 503 ``residents_unavailable`` when the
index cannot be reached: no referral is requested unlinked any more). Referrals requested before that,
or written by an in-process loader without an index, are linked by the linking command — their
residents found or registered from their copies, a thousand referrals a ``POST /residents/persons/bulk``
call (``libs/common/person_linking.py``) — which clears their copies (the residents hold the identity):

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
from services.contracts.referrals.models import Referral

log = logging.getLogger(__name__)


def identity_of(referral: Referral, cipher: PersonalDataCipher) -> NamedPerson | None:
    """The person a stored referral's copy names (decrypted for the call only; a new person is registered
    in the referral's county; None: no copy)."""
    if referral.resident_name_enc is None or referral.resident_id_number_enc is None:
        return None
    return NamedPerson(
        name=cipher.decrypt(referral.resident_name_enc),
        id_number=cipher.decrypt(referral.resident_id_number_enc),
        region_code=referral.region_code,
        phone=cipher.decrypt(referral.resident_phone_enc) if referral.resident_phone_enc else None,
    )


def clear_copy(referral: Referral) -> None:
    """Linked: the residents hold the identity, the copy goes (issue 19, contracts_0008)."""
    referral.resident_name_enc = None
    referral.resident_id_number_enc = None
    referral.resident_id_hash = None
    referral.resident_phone_enc = None


async def link_existing(
    database: Database, index: PersonIndex, cipher: PersonalDataCipher, *, batch: int = DEFAULT_MAX_RECORDS
) -> LinkReport:
    """Link every referral without a person: ``batch`` at a time, their residents found or registered in
    ONE ``POST /residents/persons/bulk`` call and one transaction a batch (source ``contracts:link``).
    Raises ``PersonIndexUnavailable`` when the index is unreachable (what was linked so far stays linked)."""
    return await link_unlinked(
        database,
        Referral,
        index,
        cipher,
        service="contracts",
        identity=lambda referral: identity_of(referral, cipher),
        clear=clear_copy,
        batch=batch,
    )


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
