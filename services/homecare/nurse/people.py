"""The served person's whole name, phone and home address for the nurse's bundle — read in this one
place, for a whole batch of recipients at once: from the residents' person index in one call (issue 19,
``recipients/identity.py``; a recipient not linked yet reads its own copy), with the person's latest
ability assessment the same call carries (issue 19: it supersedes the declared disability level). The
index unreachable is a 503 ``residents_unavailable``: the bundle is not served without the people it is
for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from libs.common.auth import Principal
from libs.common.person_index import IndexedAssessment, PersonIndex, PersonIndexUnavailable
from libs.common.personal_data import PersonalDataCipher
from services.homecare.recipients.identity import identities
from services.homecare.recipients.models import Recipient

#: what the bundle discloses of the person (the audit record's ``fields``)
DISCLOSED = ("name", "phone", "address")


@dataclass(frozen=True, slots=True)
class PersonContact:
    name: str
    phone: str | None
    address: str | None
    # the person's latest ability assessment, read in the same call (None: never assessed, or not linked)
    assessment: IndexedAssessment | None


async def contacts(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    recipients: Iterable[Recipient],
    *,
    principal: Principal,
) -> dict[uuid.UUID, PersonContact]:
    """Each recipient's whole name, phone and home address, and the person's latest ability assessment
    (one batch)."""
    found = await identities(
        index, cipher, recipients, principal=principal, purpose="nurse bundle", required=True
    )
    answer: dict[uuid.UUID, PersonContact] = {}
    for recipient_id, person in found.items():
        if person is None:
            raise PersonIndexUnavailable("部分服务对象的身份信息暂不可读，请稍后重试")
        answer[recipient_id] = PersonContact(
            name=person.name, phone=person.phone, address=person.address, assessment=person.assessment
        )
    return answer
