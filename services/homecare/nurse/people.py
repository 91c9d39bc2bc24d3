"""The served person's whole name, phone and home address for the nurse's bundle — read in this one
place, for a whole batch of recipients at once.

Today they are homecare's own (the recipient's encrypted columns). When the person data moves to the
residents service (issue 19: homecare reads it from the person index in one batch call,
``PersonIndex.persons``), this function is the one place that changes; its callers keep the same
:class:`PersonContact` per recipient.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from libs.common.personal_data import PersonalDataCipher
from services.homecare.recipients.models import Recipient

#: what the bundle discloses of the person (the audit record's ``fields``)
DISCLOSED = ("name", "phone", "address")


@dataclass(frozen=True, slots=True)
class PersonContact:
    name: str
    phone: str | None
    address: str


async def contacts(
    cipher: PersonalDataCipher, recipients: Iterable[Recipient]
) -> dict[uuid.UUID, PersonContact]:
    """Each recipient's whole name, phone and home address (one batch)."""
    return {
        r.id: PersonContact(
            name=cipher.decrypt(r.name_enc),
            phone=cipher.decrypt(r.phone_enc) if r.phone_enc is not None else None,
            address=cipher.decrypt(r.address_enc),
        )
        for r in recipients
    }
