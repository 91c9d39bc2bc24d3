"""Institutions from and to spreadsheets: ``POST /institutions/import`` and ``GET /institutions/export``.

An imported row obeys the rules of ``POST /institutions`` (a new institution) or of ``PATCH`` (a matched
one), checked for every row before anything is written (:mod:`.batch_write`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import FieldError, Unprocessable
from libs.common.personal_data import PersonalDataCipher
from services.registry.institutions import batch_write
from services.registry.institutions.batch_write import Candidate, reject
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import ImportResult, ImportRowResult, RecordError
from services.registry.institutions.service import LIST_ORDER, InstitutionFilter, filter_conditions
from services.registry.institutions.spreadsheet import ParsedRow


class ImportMode(StrEnum):
    all = "all"
    partial = "partial"


IMPORT_MODE_LABELS = {ImportMode.all: "全部无误才写入", ImportMode.partial: "写入无误的行"}


class TooManyRecords(Unprocessable):
    default_code = "too_many_records"


class ImportRejected(Unprocessable):
    default_code = "import_rejected"


def _errors(candidate: Candidate) -> list[RecordError]:
    return [RecordError(field=e.field, message=e.message, code=e.code) for e in candidate.errors]


def _match_existing(candidates: Sequence[Candidate], rows: list[dict[str, Any]], key: Any) -> None:
    by_key = {key(row): row for row in rows}
    for candidate in candidates:
        if candidate.rejected:
            continue
        row = by_key.get(candidate.key)
        if row is not None:
            candidate.existing = row
            candidate.id = row["id"]


# ----------------------------------------------------------------------------------- spreadsheets


async def import_rows(
    session: AsyncSession,
    principal: Principal,
    rows: Iterator[ParsedRow],
    *,
    mode: ImportMode,
    cipher: PersonalDataCipher,
    max_rows: int,
) -> ImportResult:
    """Validate every row, then write all of them (or, in partial mode, the good ones).

    A row is matched to an existing institution by its USCC, or, without one, by county and name; a
    match is updated (its non-empty cells; empty cells and absent columns keep what is registered) or left
    unchanged, anything else is created. In ``all`` mode one bad row means
    nothing is written and every bad row is reported (422).
    """
    candidates: list[Candidate] = []
    for parsed in rows:
        if len(candidates) >= max_rows:
            raise TooManyRecords(f"每次最多导入 {max_rows} 行（at most {max_rows} rows）")
        candidate = Candidate(
            index=parsed.line, external_id=None, raw=parsed.values, label=f"{parsed.line} 行", fields_at=""
        )
        for field, message in parsed.errors:
            reject(candidate, field, message, "invalid_cell")
        candidates.append(candidate)
    if not candidates:
        raise Unprocessable("文件中没有数据行（no data rows）", code="empty_import")
    batch_write.validate(candidates, principal)
    for candidate in candidates:
        data = candidate.data
        candidate.key = (
            None
            if data is None
            else ("uscc", data.uscc)
            if data.uscc
            else ("name", data.region_code, data.name)
        )
    batch_write.reject_duplicates(candidates, lambda c: c.key, "name")
    await _match_import_rows(session, candidates)
    batch_write.merge_existing(candidates, principal, cipher)
    await batch_write.check_uscc_owners(session, candidates)

    rejected = [c for c in candidates if c.rejected]
    if rejected and mode is ImportMode.all:
        raise ImportRejected(
            f"共 {len(rejected)} 行有误，未写入任何数据；请修改后重新导入"
            f"（{len(rejected)} bad rows, nothing written）",
            errors=[
                FieldError(field=f"rows.{c.index}.{e.field}", message=e.message, code=e.code)
                for c in rejected
                for e in c.errors
            ],
            extra={"rejected_lines": [c.index for c in rejected], "total": len(candidates)},
        )
    await batch_write.write(session, principal, candidates, cipher=cipher, action=f"import:{mode.value}")
    counts = {
        status: sum(1 for c in candidates if c.outcome == status)
        for status in ("created", "updated", "unchanged", "rejected")
    }
    reported = [
        ImportRowResult(
            line=c.index,
            status=c.outcome or "rejected",
            id=c.id if not c.rejected else None,
            name=c.raw.get("name"),
            errors=_errors(c),
            warnings=c.warnings,
        )
        for c in candidates
        if c.rejected or c.warnings
    ]
    return ImportResult(mode=mode.value, total=len(candidates), rows=reported, **counts)


async def _match_import_rows(session: AsyncSession, candidates: Sequence[Candidate]) -> None:
    live = [c for c in candidates if not c.rejected and c.key is not None]
    usccs = [c.key[1] for c in live if c.key[0] == "uscc"]
    names = [c.key for c in live if c.key[0] == "name"]
    rows: list[dict[str, Any]] = []
    if usccs:
        rows += await batch_write.load_existing(session, lambda chunk: Institution.uscc.in_(chunk), usccs)
    if names:
        regions = sorted({key[1] for key in names})
        wanted = {key[2] for key in names}
        rows += [
            row
            for row in await batch_write.load_existing(
                session,
                lambda chunk: and_(
                    Institution.region_code.in_(regions),
                    Institution.uscc.is_(None),
                    Institution.name.in_(chunk),
                ),
                sorted(wanted),
            )
        ]

    def key(row: dict[str, Any]) -> tuple[str, ...]:
        return ("uscc", row["uscc"]) if row["uscc"] else ("name", row["region_code"], row["name"])

    _match_existing(candidates, rows, key)


async def export_rows(
    session: AsyncSession, principal: Principal, filters: InstitutionFilter, *, limit: int
) -> list[dict[str, Any]]:
    """The rows of an export (plain dicts, list order), at most ``limit``."""
    stmt = (
        select(batch_write.TABLE)
        .where(*filter_conditions(principal, filters))
        .order_by(*LIST_ORDER)
        .limit(limit + 1)
    )
    rows = [dict(row) for row in (await session.execute(stmt)).mappings()]
    if len(rows) > limit:
        raise TooManyRecords(f"导出最多 {limit} 行，请缩小筛选范围（narrow the filters）")
    return rows
