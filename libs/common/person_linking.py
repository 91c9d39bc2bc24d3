"""Linking a service's stored records to the residents' person index (issue 19), the loop both linking
commands run (homecare's recipients, contracts' referral residents): every row without a ``person_id``, a
batch at a time, its person found or registered from the row's own encrypted copy in ONE ``POST
/residents/persons/bulk`` call a batch (:func:`libs.common.person_index.resolve_batch`), the row linked
and its copy cleared; what the index refuses is reported with its reason, left as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute

from libs.common.bulk import DEFAULT_MAX_RECORDS
from libs.common.database import Database, session_scope
from libs.common.person_index import NamedPerson, PersonIndex, PersonNotMatched, index_source, resolve_batch
from libs.common.personal_data import PersonalDataCipher

#: the source system of the linking commands' records in the person index (``<service>:link``)
LINK_SOURCE = "link"
NO_IDENTITY = "该记录既未关联居民，也没有身份信息"


class Linkable(Protocol):
    id: Any
    person_id: Any


R = TypeVar("R", bound=Linkable)


@dataclass
class LinkReport:
    linked: int = 0
    unmatched: list[tuple[uuid.UUID, str, str]] = field(default_factory=list)  # (row, code, detail)


async def link_unlinked(
    database: Database,
    model: type[R],
    index: PersonIndex,
    cipher: PersonalDataCipher,
    *,
    service: str,
    identity: Callable[[R], NamedPerson | None],
    clear: Callable[[R], None],
    batch: int = DEFAULT_MAX_RECORDS,
) -> LinkReport:
    """Link every row of ``model`` without a person: ``identity`` is the person a row's copy names (None:
    it has none, reported ``identity_missing``), ``clear`` drops the row's copy once linked. One
    transaction and one index call per ``batch`` rows, in id order. Raises ``PersonIndexUnavailable`` when
    the index is unreachable (what was linked so far stays linked)."""
    report = LinkReport()
    person_id: InstrumentedAttribute[Any] = getattr(model, "person_id")  # noqa: B009
    row_id: InstrumentedAttribute[Any] = getattr(model, "id")  # noqa: B009
    after: uuid.UUID | None = None
    while True:
        async with session_scope(database) as session:
            stmt = select(model).where(person_id.is_(None)).order_by(row_id).limit(batch)
            if after is not None:
                stmt = stmt.where(row_id > after)
            rows = list((await session.scalars(stmt)).all())
            people: dict[int, NamedPerson] = {}
            for i, row in enumerate(rows):
                person = identity(row)
                if person is None:
                    report.unmatched.append((row.id, "identity_missing", NO_IDENTITY))
                else:
                    people[i] = person
            resolved = await resolve_batch(
                index, cipher, people, source=index_source(service, LINK_SOURCE), max_records=batch
            )
            for i, answer in resolved.items():
                row = rows[i]
                if isinstance(answer, PersonNotMatched):
                    report.unmatched.append((row.id, answer.code, answer.detail))
                    continue
                row.person_id = answer
                clear(row)
                report.linked += 1
        if len(rows) < batch:
            return report
        after = rows[-1].id
