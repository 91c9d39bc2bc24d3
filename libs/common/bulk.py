"""The bulk-write protocol every service's ``POST .../bulk`` follows (city platforms pushing records up).

One envelope, one per-record result, one answer, one set of codes:

- request (:class:`BulkRequest`): ``{"source_system": "xm-ijiankang", "records": [{"external_id": "…",
  …}, …]}`` — a service subclasses it to document its records as its record model
  (:func:`records_field`); they are validated one by one, so one bad record rejects only itself;
- answer (:class:`BulkResponse`): ``{"source_system", "counts": {created, updated, unchanged, rejected},
  "results": [{index, external_id, outcome, id, version, code, detail, errors, warnings}]}``, one result
  per record in request order;
- a batch of more than ``bulk_max_records`` (a setting, 1,000 by default) is refused whole: 422
  ``batch_too_large``; a record without a usable ``external_id`` is rejected with ``invalid_external_id``,
  the second record of a batch with the same key with ``duplicate_in_batch``, a record that fails schema
  validation with ``validation_failed`` (field errors in ``errors``), and a record refused by the
  service's rule with the code of the :class:`~libs.common.errors.DomainError` its rule raised.

A rule exists once: a service's per-record rule is the function its single-record endpoint calls, and
it refuses a record by raising a ``DomainError``. The bulk writer turns that error into the record's
rejection (:meth:`Batch.check`, :meth:`Batch.check_async`), so a record sent in bulk obeys exactly the
rules of the single write. A rejected record never half-writes: either the rule is checked before
anything is written (pre-validation, the fast path — batch the lookups it needs up front, then write
with bulk statements), or a rule that writes runs inside :func:`guarded`, a savepoint per record.

Replay safety: a service compares what a matched record would change with :func:`changed_fields` and
marks it ``unchanged`` (no statement, no version, no feed entry, no audit record) when nothing does —
replaying a batch writes nothing. ``Idempotency-Key`` is honoured by the route class like any POST.
Audit goes through :func:`libs.common.audit.record_many` (:func:`audit_written`): the records of a batch
are written in one statement at commit. Bulk statements bypass the ORM, so a service passes each written
entity to :func:`libs.common.changes.track` — or, for rows it wrote as plain values,
:func:`libs.common.changes.track_values` (no ORM object built) — with its ``previous_scope`` (a move
leaves a tombstone in the old scope's feed). Whatever the batch size, a batch costs a bounded number of
statements: never one per record.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.errors import DomainError, FieldError, Unprocessable, validation_field_errors

T = TypeVar("T")

SOURCE_SYSTEM_PATTERN = r"^[A-Za-z0-9._:-]{1,60}$"
EXTERNAL_ID_MAX_LENGTH = 100
DEFAULT_MAX_RECORDS = 1000


class BulkOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


BULK_OUTCOME_LABELS = {
    BulkOutcome.created: "已新增",
    BulkOutcome.updated: "已更新",
    BulkOutcome.unchanged: "无变化",
    BulkOutcome.rejected: "已拒绝",
}


class RecordCode(StrEnum):
    """The record-level rejection codes of the protocol itself (a rule adds the codes of its errors)."""

    invalid_external_id = "invalid_external_id"
    duplicate_in_batch = "duplicate_in_batch"
    validation_failed = "validation_failed"


class BatchTooLarge(Unprocessable):
    default_code = "batch_too_large"


# ------------------------------------------------------------------------------------------ wire shapes


class BulkRequest(BaseModel):
    """A city platform's batch. Services document their records with :func:`bulk_request`."""

    model_config = ConfigDict(extra="forbid")

    source_system: str = Field(
        pattern=SOURCE_SYSTEM_PATTERN,
        description="城市平台的系统标识，与 external_id 一起作为记录的键",
        examples=["xm-ijiankang"],
    )
    records: list[dict[str, Any]] = Field(
        min_length=1,
        description=(
            "记录（各含 external_id），每批最多 bulk_max_records 条（默认 1,000）；逐条校验，互不影响"
        ),
    )


def records_field(record_model: type[BaseModel]) -> Any:
    """The ``records`` field of a service's envelope; annotate it as
    ``list[Annotated[dict[str, Any], DocumentedAs(RecordModel)]]`` so the records are documented as the
    record model but validated one by one by the service."""
    return Field(
        min_length=1,
        description=(
            f"记录（字段同 {record_model.__name__}），每批最多 bulk_max_records 条（默认 1,000）；"
            "逐条校验，互不影响"
        ),
    )


class BulkRecordResult(BaseModel):
    index: int = Field(description="记录在本批中的序号（从 0 开始）")
    external_id: str | None = Field(description="城市平台内的记录编号（缺失或无效时为 null）")
    outcome: BulkOutcome
    id: uuid.UUID | None = Field(default=None, description="平台内的记录 id（被拒绝时为 null）")
    version: int | None = Field(default=None, description="写入后的版本号（被拒绝时为 null）")
    code: str | None = Field(default=None, description="拒绝原因（稳定代码）")
    detail: str | None = Field(default=None, description="拒绝原因（中文）")
    errors: list[FieldError] = Field(default_factory=list, description="字段级错误")
    warnings: list[str] = Field(default_factory=list, description="不影响写入的提示")


class BulkCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class BulkResponse(BaseModel):
    """The answer of every bulk endpoint: one result per record, in request order, and the counts."""

    source_system: str
    counts: BulkCounts
    results: list[BulkRecordResult]


# --------------------------------------------------------------------------------------------- settings


async def _max_records(request: Request) -> int:
    return int(getattr(request.app.state.settings, "bulk_max_records", DEFAULT_MAX_RECORDS))


BulkMaxRecords = Annotated[int, Depends(_max_records)]


# ---------------------------------------------------------------------------------------------- a batch


@dataclass
class BulkRecord(Generic[T]):
    """One incoming record: where it was, its key, what the service made of it, and its outcome."""

    index: int
    external_id: str | None
    raw: dict[str, Any]
    data: T | None = None
    outcome: BulkOutcome | None = None
    id: uuid.UUID | None = None
    version: int | None = None
    code: str | None = None
    detail: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    existing: Any = None  # the stored entity or row it matched, if any (the service's business)
    changes: dict[str, Any] | None = None  # what the write changed, for the audit record

    @property
    def rejected(self) -> bool:
        return self.outcome is BulkOutcome.rejected

    def reject(self, code: str, detail: str, errors: Collection[FieldError] = ()) -> None:
        self.outcome = BulkOutcome.rejected
        self.code = code
        self.detail = detail
        self.errors = list(errors)
        self.id = None
        self.version = None

    @property
    def field_prefix(self) -> str:
        """How the answer names this record's fields: ``records.{index}.``."""
        return f"records.{self.index}."

    def field_name(self, name: str) -> str:
        """``records.{index}.name``; the record itself (a whole-record error) is ``records.{index}``."""
        if name:
            return self.field_prefix + name
        return self.field_prefix.rstrip(".") or "record"

    def reject_error(self, error: DomainError) -> None:
        """Reject with what a single-record write would have answered (its ``body`` fields renamed to
        this record's)."""
        errors = [
            FieldError(
                field=self.field_name("" if e.field == "body" else e.field.removeprefix("body.")),
                message=e.message,
                code=e.code,
            )
            for e in error.errors or ()
        ]
        self.reject(error.code, error.detail, errors)

    def written(
        self,
        outcome: BulkOutcome,
        *,
        id: uuid.UUID,
        version: int | None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        self.outcome = outcome
        self.id = id
        self.version = version
        self.changes = changes

    def result(self) -> BulkRecordResult:
        return BulkRecordResult(
            index=self.index,
            external_id=self.external_id,
            outcome=self.outcome or BulkOutcome.rejected,
            id=self.id,
            version=self.version,
            code=self.code,
            detail=self.detail,
            errors=self.errors,
            warnings=self.warnings,
        )


@dataclass
class Batch(Generic[T]):
    source_system: str
    records: list[BulkRecord[T]]

    def live(self) -> Iterator[BulkRecord[T]]:
        """The records not rejected (yet)."""
        return (record for record in self.records if not record.rejected)

    def pending(self) -> Iterator[BulkRecord[T]]:
        """The records neither rejected nor given an outcome yet."""
        return (record for record in self.records if record.outcome is None)

    def validate(self, model: type[BaseModel], *, exclude: Collection[str] = ("external_id",)) -> None:
        """Validate each live record's fields (all but ``exclude``) as ``model`` into ``record.data``."""
        for record in self.live():
            values = {k: v for k, v in record.raw.items() if k not in exclude}
            try:
                record.data = cast(T, model.model_validate(values))
            except ValidationError as exc:
                errors = [
                    FieldError(field=record.field_name(e.field), message=e.message, code=e.code)
                    for e in validation_field_errors(exc.errors())
                ]
                record.reject(RecordCode.validation_failed, "记录未通过校验", errors)

    def check(self, rule: Callable[[BulkRecord[T]], object]) -> None:
        """Run the single write's rule on each live record; a ``DomainError`` rejects that record only."""
        for record in list(self.live()):
            try:
                rule(record)
            except DomainError as exc:
                record.reject_error(exc)

    async def check_async(self, rule: Callable[[BulkRecord[T]], Awaitable[object]]) -> None:
        for record in list(self.live()):
            try:
                await rule(record)
            except DomainError as exc:
                record.reject_error(exc)

    def reject_duplicates(self, key: Callable[[BulkRecord[T]], Any], what: str) -> None:
        """Reject each live record whose ``key`` an earlier live record of the batch already has."""
        seen: dict[Any, BulkRecord[T]] = {}
        for record in list(self.live()):
            value = key(record)
            if value is None:
                continue
            first = seen.setdefault(value, record)
            if first is not record:
                record.reject(
                    RecordCode.duplicate_in_batch,
                    f"{what} 与本批第 {first.index} 条重复",
                    [
                        FieldError(
                            field=f"records.{record.index}.{what}", message="本批重复", code="duplicate"
                        )
                    ],
                )

    def counts(self) -> BulkCounts:
        counts = BulkCounts()
        for record in self.records:
            outcome = record.outcome or BulkOutcome.rejected
            setattr(counts, outcome.value, getattr(counts, outcome.value) + 1)
        return counts

    def response(self) -> BulkResponse:
        """The answer; a record the service left without an outcome is reported as rejected."""
        for record in self.records:
            if record.outcome is None:
                record.reject("not_processed", "记录未处理")
        return BulkResponse(
            source_system=self.source_system,
            counts=self.counts(),
            results=[record.result() for record in self.records],
        )


def open_batch(source_system: str, records: list[dict[str, Any]], *, max_records: int) -> Batch[Any]:
    """Check the batch's size (422 ``batch_too_large`` for the whole request) and each record's key.

    ``external_id`` (1–100 characters, trimmed) is required; the second record with a key already in the
    batch is rejected (``duplicate_in_batch``).
    """
    if len(records) > max_records:
        raise BatchTooLarge(
            f"每批最多 {max_records} 条记录，本批 {len(records)} 条（at most {max_records} records a batch）",
            extra={"max_records": max_records, "records": len(records)},
        )
    batch: Batch[Any] = Batch(source_system=source_system, records=[])
    for index, raw in enumerate(records):
        value = raw.get("external_id")
        external_id = value.strip() if isinstance(value, str) else None
        record: BulkRecord[Any] = BulkRecord(index=index, external_id=external_id or None, raw=dict(raw))
        if not external_id or len(external_id) > EXTERNAL_ID_MAX_LENGTH or not external_id.isprintable():
            record.external_id = None
            record.reject(
                RecordCode.invalid_external_id,
                f"external_id 必填，1–{EXTERNAL_ID_MAX_LENGTH} 个字符",
                [
                    FieldError(
                        field=f"records.{index}.external_id",
                        message=f"必填，1–{EXTERNAL_ID_MAX_LENGTH} 个可见字符",
                        code="invalid",
                    )
                ],
            )
        batch.records.append(record)
    batch.reject_duplicates(lambda r: r.external_id, "external_id")
    return batch


# -------------------------------------------------------------------------------------- writing safely


@asynccontextmanager
async def guarded(session: AsyncSession, record: BulkRecord[Any]) -> AsyncIterator[None]:
    """Run a rule that writes inside a savepoint: a ``DomainError`` undoes this record's writes only and
    rejects it. (One SAVEPOINT per record: prefer checking before writing where the rule allows.)"""
    savepoint = await session.begin_nested()
    try:
        yield
    except DomainError as exc:
        await savepoint.rollback()
        record.reject_error(exc)
    else:
        await savepoint.commit()


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields of ``after`` whose value differs from ``before`` (empty: the record is unchanged)."""

    def comparable(value: Any) -> Any:
        return value.value if hasattr(value, "value") and not isinstance(value, str) else value

    return {
        key: [before.get(key), value]
        for key, value in after.items()
        if comparable(before.get(key)) != comparable(value)
    }


def audit_written(
    session: AsyncSession,
    principal: Principal,
    batch: Batch[Any],
    *,
    entity_type: str,
    action: str = "bulk_upsert",
    personal_fields: Collection[str] = (),
) -> int:
    """Audit every created and updated record (``{entity_type}.create`` / ``.update``) with its changes
    and ``via``; unchanged and rejected records leave no audit record. Returns how many were recorded."""
    verbs = {BulkOutcome.created: "create", BulkOutcome.updated: "update"}
    entries: list[audit.Entry] = []
    for record in batch.records:
        verb = verbs.get(record.outcome) if record.outcome is not None else None
        if verb is None or record.id is None:
            continue
        changes = {
            **(record.changes or {}),
            "via": action,
            "source_system": batch.source_system,
            "external_id": record.external_id,
        }
        entries.append(
            audit.Entry(
                action=f"{entity_type}.{verb}", entity_type=entity_type, entity_id=record.id, changes=changes
            )
        )
    # one multi-row INSERT at commit, not one ORM object each
    return audit.record_many(session, principal, entries, personal_fields=personal_fields)
