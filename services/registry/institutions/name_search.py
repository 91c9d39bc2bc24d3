"""Chinese substring search on institution names, with an index.

``LIKE '%…%'`` cannot use a B-tree index, and trigram indexes (pg_trgm, FTS5) ignore the one- and
two-character queries that Chinese names are searched with (「湖里」, 「颐养」). So every name is cut into
its single characters and its character pairs, kept in ``institution_name_gram`` (primary key
``(gram, institution_id)``); a query is narrowed through that index to the institutions holding every
pair of the query (or its one character) and then checked exactly with ``LIKE``.

The table follows every write path (form, import, bulk upsert, seed) through the change feed's commit
hook: whatever writes an institution, its grams are replaced in the same transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ForeignKey, String, and_, delete, exists
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


def gram_rows(entries: list[tuple[uuid.UUID, str]]) -> list[dict[str, Any]]:
    return [{"gram": g, "institution_id": i} for i, name in entries for g in grams(name)]


async def refresh(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """Replace the grams of the institutions written in this transaction (the feed's commit hook)."""
    ids = [entry["entity_id"] for entry in entries]
    await session.execute(delete(InstitutionNameGram).where(InstitutionNameGram.institution_id.in_(ids)))
    named = [
        (entry["entity_id"], entry["payload"]["name"])
        for entry in entries
        if entry["op"] == "upsert" and entry["payload"] and entry["payload"].get("name")
    ]
    rows = gram_rows(named)
    if rows:
        # ~20 grams an institution: a batch of 1,000 writes ~20,000 rows, in one statement
        await insert_rows(session, InstitutionNameGram.__table__, rows)  # type: ignore[arg-type]


changes.on_commit("institution", refresh)
