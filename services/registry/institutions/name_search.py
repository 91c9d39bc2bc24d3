"""Chinese substring search on institution names, with an index.

``LIKE '%…%'`` cannot use a B-tree index, and trigram indexes (pg_trgm, FTS5) ignore the one- and
two-character queries that Chinese names are searched with (「湖里」, 「颐养」). So every name is cut into
its single characters and its character pairs, kept in ``institution_name_gram`` (primary key
``(gram, institution_id)``); a query is narrowed through that index to the institutions holding every
pair of the query (or its one character) and then checked exactly with ``LIKE``.

The table follows every write path (form, import, bulk upsert, seed) through the change feed's commit
hook: whatever writes an institution, its grams are replaced in the same transaction when its name
changed (created, renamed, deleted).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, and_, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from libs.common import changes
from libs.common.bulk_insert import insert_rows
from services.registry.base import Base
from services.registry.institutions.models import Institution


class InstitutionNameGram(Base):
    __tablename__ = "institution_name_gram"

    gram: Mapped[str] = mapped_column(String(2), primary_key=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True, index=True
    )


def _chars(text: str) -> str:
    return "".join(text.split()).lower()


def grams(name: str) -> set[str]:
    """Every character and every pair of neighbouring characters of ``name`` (white space ignored)."""
    text = _chars(name)
    return set(text) | {text[i : i + 2] for i in range(len(text) - 1)}


def query_grams(q: str) -> set[str]:
    text = _chars(q)
    if len(text) <= 1:
        return set(text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def name_condition(q: str) -> ColumnElement[bool]:
    """``name LIKE '%q%'`` and, for each pair of the query (or its one character), ``EXISTS`` a gram row of
    the institution — semi-joins the planner may take from either side: through the gram index when the
    query is rare (「湖里颐」: a few holders, then sorted), or along the list's ordered index checking each
    row's grams by primary key when it is common (「医院」, a third of the province: the first page is
    found after a few dozen rows, instead of collecting every holder before sorting)."""
    keys = query_grams(q)
    exact = Institution.name.like(like_pattern(q.strip()), escape="\\")
    if not keys:
        return exact
    held = [
        exists().where(InstitutionNameGram.gram == key, InstitutionNameGram.institution_id == Institution.id)
        for key in sorted(keys)
    ]
    return and_(exact, *held)


CHUNK = 1000  # institutions per IN (...) list


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


async def refresh(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Bring the grams of the institutions written in this transaction in line with their names (the
    feed's commit hook). Their stored grams are read first and only an institution whose set differs —
    a new one, a renamed one, a deleted one — has its rows replaced: an update that keeps the name
    rewrites nothing (issue 16, 16m: a bulk batch of 1,000 updated addresses deleted and reinserted
    ≈ 20,000 rows, each reinsert checking its foreign key)."""
    wanted: dict[uuid.UUID, set[str]] = {}
    for entry in entries:
        payload = entry["payload"]
        name = payload.get("name") if entry["op"] == "upsert" and payload else None
        wanted[_uuid(entry["entity_id"])] = grams(name) if name else set()
    ids = list(wanted)
    stored: dict[uuid.UUID, set[str]] = {}
    for start in range(0, len(ids), CHUNK):
        stmt = select(InstitutionNameGram.institution_id, InstitutionNameGram.gram).where(
            InstitutionNameGram.institution_id.in_(ids[start : start + CHUNK])
        )
        for institution_id, gram in (await session.execute(stmt)).all():
            stored.setdefault(institution_id, set()).add(gram)
    stale = [i for i in ids if stored.get(i, set()) != wanted[i]]
    replaced = [i for i in stale if i in stored]
    for start in range(0, len(replaced), CHUNK):
        await session.execute(
            delete(InstitutionNameGram).where(
                InstitutionNameGram.institution_id.in_(replaced[start : start + CHUNK])
            )
        )
    rows = [{"gram": g, "institution_id": i} for i in stale for g in wanted[i]]
    if rows:
        # ~20 grams an institution: a batch of 1,000 new ones writes ~20,000 rows, in one statement
        await insert_rows(session, InstitutionNameGram.__table__, rows)  # type: ignore[arg-type]


changes.on_commit("institution", refresh)
