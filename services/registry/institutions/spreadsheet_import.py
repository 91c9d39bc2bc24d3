"""Institutions from and to spreadsheets: ``POST /institutions/import`` and ``GET /institutions/export``.

An imported row obeys the rules of ``POST /institutions`` (a new institution) or of ``PATCH`` (a matched
one), checked for every row before anything is written (:mod:`.batch_write`).

The answer is the platform's bulk answer (:mod:`libs.common.bulk`): ``counts`` and one result per data
row in file order — ``outcome``, ``id``, ``version``, the rejection's ``code``, ``detail`` and field
``errors`` — each result adding its ``line`` in the file; a row's fields are named ``rows.<line>.<field>``.
The codes are the bulk codes (``validation_failed``, ``duplicate_in_batch``, the single write's codes, a
file over ``import_max_rows`` rows ``batch_too_large``). ``mode=all`` is all-or-nothing: with a bad row
nothing is written, so it answers no outcomes but a 422 ``import_rejected`` problem whose ``errors`` are
the bad rows' field errors and whose ``extra.results`` are the bad rows' results in the same shape."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.bulk import Batch, BatchTooLarge, BulkCounts, BulkRecordResult, RecordCode
from libs.common.errors import Unprocessable
from libs.common.openapi import enum_labels
from libs.common.personal_data import PersonalDataCipher
from services.registry.institutions import batch_write
from services.registry.institutions.batch_write import Candidate, reject
from services.registry.institutions.models import Institution
from services.registry.institutions.service import LIST_ORDER, InstitutionFilter, filter_conditions
from services.registry.institutions.spreadsheet import ParsedRow


class ImportMode(StrEnum):
    all = "all"
    partial = "partial"


IMPORT_MODE_LABELS: dict[str, str] = {ImportMode.all: "全部无误才写入", ImportMode.partial: "写入无误的行"}


class TooManyRecords(Unprocessable):
    """An export over its limit (an import over its limit is the bulk protocol's ``batch_too_large``)."""

    default_code = "too_many_records"


class ImportRejected(Unprocessable):
    default_code = "import_rejected"


class ImportRowResult(BulkRecordResult):
    """A row's result: the bulk protocol's per-record result and the row's line in the file."""

    external_id: str | None = Field(description="表格导入的行没有 external_id，恒为 null")
    line: int = Field(description="文件中的行号（表头为第 1 行）")


class ImportResponse(BaseModel):
    """The answer of an import: the bulk answer's ``counts`` and ``results``, one result per data row."""

    mode: ImportMode = Field(json_schema_extra=enum_labels(IMPORT_MODE_LABELS))
    counts: BulkCounts
    results: list[ImportRowResult] = Field(description="每个数据行一条结果，按文件中的顺序")


def _result(candidate: Candidate, line: int) -> ImportRowResult:
    return ImportRowResult(**candidate.result().model_dump(), line=line)


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
) -> ImportResponse:
    """Validate every row, then write all of them (or, in partial mode, the good ones).

    A row is matched to an existing institution by its USCC, or, without one, by county and name; a
    match is updated (its non-empty cells; empty cells and absent columns keep what is registered) or left
    unchanged, anything else is created. In ``all`` mode one bad row means
    nothing is written and every bad row is reported (422).
    """
    candidates: list[Candidate] = []
    lines: list[int] = []
    for parsed in rows:
        if len(candidates) >= max_rows:
            raise BatchTooLarge(
                f"每次最多导入 {max_rows} 行（at most {max_rows} rows）", extra={"max_records": max_rows}
            )
        candidate = Candidate(
            index=len(candidates),
            external_id=None,
            raw=parsed.values,
            label=f"{parsed.line} 行",
            fields_at=f"rows.{parsed.line}.",
        )
        for field, message in parsed.errors:
            reject(candidate, field, message, "invalid_cell")
        if candidate.rejected:  # a cell that is not what its column holds: the record fails validation
            candidate.reject(RecordCode.validation_failed, "记录未通过校验", candidate.errors)
        candidates.append(candidate)
        lines.append(parsed.line)
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
            errors=[e for c in rejected for e in c.errors],
            extra={
                "rejected_lines": [lines[c.index] for c in rejected],
                "total": len(candidates),
                "results": [_result(c, lines[c.index]).model_dump(mode="json") for c in rejected],
            },
        )
    await batch_write.write(session, principal, candidates, cipher=cipher, action=f"import:{mode.value}")
    counts = Batch[Any](source_system="", records=list(candidates)).counts()
    return ImportResponse(mode=mode, counts=counts, results=[_result(c, lines[c.index]) for c in candidates])


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
