"""The identity check of a person served (issue 18): another service — homecare, at a nurse's check-in —
asks whether the last characters of the ID number the person shows match the number held here. The ID
number never leaves this service and never travels whole: the caller sends only the suffix
(``identity_check_suffix_length`` characters), the answer is a yes or no, compared in constant time.

Attempts are counted per person per day (Asia/Shanghai) in ``identity_check`` (what was answered, never
the value sent); beyond ``identity_check_max_per_day`` a 429 ``identity_check_limit`` answers and nothing
is compared, so the suffix cannot be guessed by asking. Two concurrent attempts may both pass the count
(a bound, not an exact quota).
"""

from __future__ import annotations

import hmac

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.personal_data import PersonalDataCipher, normalise_lookup_value
from services.residents import clock
from services.residents.persons.errors import IdentityCheckLimit, IdentitySuffixInvalid
from services.residents.persons.models import IdentityCheck, Person
from services.residents.persons.schemas import IdentityCheckRequest, IdentityCheckResult


async def check(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    person: Person,
    data: IdentityCheckRequest,
    *,
    suffix_length: int,
    max_per_day: int,
) -> IdentityCheckResult:
    suffix = normalise_lookup_value(data.id_suffix, "id_card")
    if len(suffix) != suffix_length:
        raise IdentitySuffixInvalid(suffix_length)
    day = clock.today()
    used = await session.scalar(
        select(func.count()).where(IdentityCheck.person_id == person.id, IdentityCheck.check_date == day)
    )
    if (used or 0) >= max_per_day:
        raise IdentityCheckLimit(max_per_day)
    held = normalise_lookup_value(cipher.decrypt(person.id_number_enc), "id_card")
    matches = hmac.compare_digest(held[-suffix_length:].encode(), suffix.encode())
    session.add(IdentityCheck(person_id=person.id, check_date=day, caller_sub=principal.sub, matches=matches))
    await session.flush()
    audit.record(
        session,
        principal,
        action="person.identity_check",
        entity_type="person",
        entity_id=person.id,
        changes={"matches": matches},
    )
    return IdentityCheckResult(matches=matches, attempts_left=max(max_per_day - (used or 0) - 1, 0))
