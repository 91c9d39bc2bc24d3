"""The code an elder holds for the identity check at a nurse's check-in (issue 18).

The serving institution's admin issues it (``POST /recipients/{id}/elder-code``; again to reissue, which
voids the old one): a random code of ``elder_code_length`` digits, shown once in the answer and kept only
as a keyed hash (the personal-data cipher's blind-index key, the recipient's id mixed in), so neither the
database nor a log holds it. At check-in the nurse sends the code the elder shows; it is compared in
constant time with the hash.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare.recipients.errors import NotServingInstitution
from services.homecare.recipients.models import Recipient
from services.homecare.recipients.schemas import ElderCodeIssued


def _hash(cipher: PersonalDataCipher, recipient: Recipient, code: str) -> str:
    return cipher.lookup_hash(f"{recipient.id}:{code}", "access_code")


async def issue(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    recipient: Recipient,
    *,
    length: int,
) -> ElderCodeIssued:
    if not principal.is_institution_user or principal.institution_id != recipient.institution_id:
        raise NotServingInstitution()
    code = "".join(secrets.choice("0123456789") for _ in range(length))
    reissued = recipient.elder_code_hash is not None
    recipient.elder_code_hash = _hash(cipher, recipient, code)
    recipient.elder_code_issued_at = clock.now()
    await session.flush()
    audit.record(
        session,
        principal,
        action="recipient.elder_code_reissue" if reissued else "recipient.elder_code_issue",
        entity_type="recipient",
        entity_id=recipient.id,
        changes={"elder_code_issued_at": recipient.elder_code_issued_at},
    )
    return ElderCodeIssued(code=code, issued_at=recipient.elder_code_issued_at, reissued=reissued)


def matches(cipher: PersonalDataCipher, recipient: Recipient, code: str) -> bool:
    """Does ``code`` match the recipient's issued code? (False when none was issued.)"""
    if recipient.elder_code_hash is None:
        return False
    return hmac.compare_digest(recipient.elder_code_hash, _hash(cipher, recipient, code.strip()))
