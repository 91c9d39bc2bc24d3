"""Institutions in bulk: city-platform upserts, spreadsheet import and export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import FieldError, Unprocessable
from libs.common.personal_data import PersonalDataCipher
from libs.common.scope import can_see
from services.registry.institutions import bulk
from services.registry.institutions.bulk import Candidate, reject
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import (
    BulkRecordResult,
    BulkUpsertRequest,
    BulkUpsertResult,
    ImportResult,
    ImportRowResult,
    RecordError,
)
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


def _match_existing(
    candidates: Sequence[Candidate], principal: Principal, rows: list[dict[str, Any]], key: Any
) -> None:
    by_key = {key(row): row for row in rows}
    for candidate in candidates:
        if candidate.status == "rejected":
            continue
        row = by_key.get(candidate.key)
        if row is None:
            continue
        if not can_see(principal, region_code=row["region_code"]):
            reject(candidate, "region_code", "该记录对应的机构不在您的管辖范围内", "out_of_scope")
            continue
        candidate.existing = row
        candidate.institution_id = row["id"]


# -------------------------------------------------------------------------------- city platforms


async def upsert_from_platform(
    session: AsyncSession,
    principal: Principal,
    request: BulkUpsertRequest,
    *,
    cipher: PersonalDataCipher,
    max_records: int,
) -> BulkUpsertResult:
    """Create, update or leave unchanged each record keyed by (source_system, external_id).

    An update changes the fields the record carries and keeps the others.
    A record outside the caller's region, or invalid, is rejected alone; replaying a batch finds every
    record unchanged and writes nothing.
    """
    if len(request.records) > max_records:
        raise TooManyRecords(f"每批最多 {max_records} 条记录（at most {max_records} records a batch）")
    candidates: list[Candidate] = []
    for index, record in enumerate(request.records):
        raw = dict(record)
        external_id = raw.pop("external_id", None)
        candidate = Candidate(position=index, label=str(index), raw=raw)
        candidate.key = external_id
        if not isinstance(external_id, str) or not external_id.strip() or len(external_id) > 100:
            reject(candidate, "external_id", "external_id 必填，1–100 个字符", "missing")
        else:
            candidate.key = external_id.strip()
        raw.pop("source_system", None)
        candidates.append(candidate)
    ok = [c for c in candidates if c.status != "rejected"]
    bulk.validate(ok, principal)
    bulk.reject_duplicates(candidates, lambda c: c.key, "external_id")
    keys = [(request.source_system, c.key) for c in candidates if c.status != "rejected"]
    existing = await bulk.load_existing(session, bulk.key_condition_source, keys) if keys else []
    _match_existing(candidates, principal, existing, lambda row: row["external_id"])
    bulk.merge_existing(candidates, cipher)
    bulk.reject_duplicates(candidates, lambda c: c.data.uscc if c.data else None, "uscc")
    await bulk.check_uscc_owners(session, candidates)
    await bulk.write(
        session,
        principal,
        candidates,
        cipher=cipher,
        action="bulk_upsert",
        extra_columns=lambda c: {"source_system": request.source_system, "external_id": c.key},
    )
    results = [
        BulkRecordResult(
            index=c.position,
            external_id=c.key if isinstance(c.key, str) else None,
            status=c.status,
            id=c.institution_id if c.status != "rejected" else None,
            errors=_errors(c),
            warnings=c.warnings,
        )
        for c in candidates
    ]
    counts = {
        status: sum(1 for c in candidates if c.status == status)
        for status in ("created", "updated", "unchanged", "rejected")
    }
    return BulkUpsertResult(source_system=request.source_system, results=results, **counts)


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
        candidate = Candidate(position=parsed.line, label=f"{parsed.line} 行", raw=parsed.values)
        for field, message in parsed.errors:
            reject(candidate, field, message, "invalid_cell")
        candidates.append(candidate)
    if not candidates:
        raise Unprocessable("文件中没有数据行（no data rows）", code="empty_import")
    bulk.validate([c for c in candidates if c.status != "rejected"], principal)
    for candidate in candidates:
        data = candidate.data
        candidate.key = (
            None
            if data is None
            else ("uscc", data.uscc)
            if data.uscc
            else ("name", data.region_code, data.name)
        )
    bulk.reject_duplicates(candidates, lambda c: c.key, "name")
    await _match_import_rows(session, principal, candidates)
    bulk.merge_existing(candidates, cipher)
    await bulk.check_uscc_owners(session, candidates)

    rejected = [c for c in candidates if c.status == "rejected"]
    if rejected and mode is ImportMode.all:
        raise ImportRejected(
            f"共 {len(rejected)} 行有误，未写入任何数据；请修改后重新导入"
            f"（{len(rejected)} bad rows, nothing written）",
            errors=[
                FieldError(field=f"rows.{c.position}.{e.field}", message=e.message, code=e.code)
                for c in rejected
                for e in c.errors
            ],
            extra={"rejected_lines": [c.position for c in rejected], "total": len(candidates)},
        )
    await bulk.write(session, principal, candidates, cipher=cipher, action=f"import:{mode.value}")
    counts = {
        status: sum(1 for c in candidates if c.status == status)
        for status in ("created", "updated", "unchanged", "rejected")
    }
    reported = [
        ImportRowResult(
            line=c.position,
            status=c.status,
            id=c.institution_id if c.status != "rejected" else None,
            name=c.raw.get("name"),
            errors=_errors(c),
            warnings=c.warnings,
        )
        for c in candidates
        if c.status == "rejected" or c.warnings
    ]
    return ImportResult(mode=mode.value, total=len(candidates), rows=reported, **counts)


async def _match_import_rows(
    session: AsyncSession, principal: Principal, candidates: Sequence[Candidate]
) -> None:
    live = [c for c in candidates if c.status != "rejected" and c.key is not None]
    usccs = [c.key[1] for c in live if c.key[0] == "uscc"]
    names = [c.key for c in live if c.key[0] == "name"]
    rows: list[dict[str, Any]] = []
    if usccs:
        rows += await bulk.load_existing(session, lambda chunk: Institution.uscc.in_(chunk), usccs)
    if names:
        regions = sorted({key[1] for key in names})
        wanted = {key[2] for key in names}
        rows += [
            row
            for row in await bulk.load_existing(
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

    _match_existing(candidates, principal, rows, key)


async def export_rows(
    session: AsyncSession, principal: Principal, filters: InstitutionFilter, *, limit: int
) -> list[dict[str, Any]]:
    """The rows of an export (plain dicts, list order), at most ``limit``."""
    stmt = (
        select(bulk.TABLE)
        .where(*filter_conditions(principal, filters))
        .order_by(*LIST_ORDER)
        .limit(limit + 1)
    )
    rows = [dict(row) for row in (await session.execute(stmt)).mappings()]
    if len(rows) > limit:
        raise TooManyRecords(f"导出最多 {limit} 行，请缩小筛选范围（narrow the filters）")
    return rows
