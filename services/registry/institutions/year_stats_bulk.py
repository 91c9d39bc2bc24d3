"""``POST /institutions/year-stats/bulk``: institutions' year figures in bulk (years of records of a city
platform joining, the demo province), one record per (institution, year).

A record is the body of ``PUT /institutions/{id}/year-stats/{year}`` (:class:`YearStatWrite`, so the
figures are consistent as there: the union of 失能 and 失智 between its parts and at most the residents,
bed-days at most beds × days) with its institution, year and ``external_id`` (the sender's record
number, echoed in the answer). It obeys the rules of the single write through the same functions: the
institution is found as ``service.get`` finds it (404 ``institution_not_found`` when unknown or out of
sight), the caller checked by ``service.check_may_edit``, the year by
:func:`history_rules.check_year_reportable` (a year that is over, ``year_not_past``; not before the
institution opened, ``before_institution_opened``). A record for a year already held replaces its
figures, as the PUT does (no ``If-Match``: the batch is the source of truth for its years).

Two SELECTs for the whole batch (institutions, the years held); rows written through the ORM (one
multi-row INSERT at flush, a change-feed entry each in request order), an ``institution.year_stat``
audit record each as the PUT writes. A replay finds every record unchanged and writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, cast

from pydantic import ConfigDict, Field
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkRequest, BulkResponse, changed_fields, open_batch
from libs.common.openapi import DocumentedAs
from libs.common.scope import can_see
from services.registry.institutions import history_rules, service
from services.registry.institutions.errors import InstitutionNotFound
from services.registry.institutions.models import Institution, InstitutionYearStat
from services.registry.institutions.schemas import YearStatWrite

VIA = "bulk_import"


class YearStatRecord(YearStatWrite):
    """One institution's figures for one year (``POST /institutions/year-stats/bulk``)."""

    external_id: str = Field(description="来源系统内的记录编号（原样返回）")
    institution_id: uuid.UUID
    year: int = Field(ge=1949, le=2100, description="年度（只能是已结束的年度）")


class YearStatBulkRequest(BulkRequest):
    """A batch of year figures (libs/common/bulk.py): each record is validated on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijiankang",
                    "records": [
                        {
                            "external_id": "ND-2025-0001",
                            "institution_id": "8a0d5b7c-1e2f-4a3b-8c9d-6e5f4a3b2c1d",
                            "year": 2025,
                            "operating_beds": 120,
                            "occupied_bed_days": 35040,
                            "residents": 96,
                            "disabled_residents": 40,
                            "dementia_residents": 12,
                            "disabled_or_dementia_residents": 46,
                        }
                    ],
                }
            ]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(YearStatRecord)]] = Field(
        min_length=1,
        description=(
            "记录（字段同 YearStatRecord），每批最多 bulk_max_records 条（默认 1,000）；逐条校验，互不影响"
        ),
    )


FIGURES = tuple(YearStatWrite.model_fields)


@dataclass
class _Upsert:
    session: AsyncSession
    principal: Principal
    source_system: str
    today: date
    institutions: dict[uuid.UUID, Institution]
    existing: dict[tuple[uuid.UUID, int], InstitutionYearStat]
    new: list[InstitutionYearStat] = field(default_factory=list)

    def check(self, record: BulkRecord[YearStatRecord]) -> None:
        data = cast(YearStatRecord, record.data)
        institution = self.institutions.get(data.institution_id)
        if institution is None or not can_see(
            self.principal, region_code=institution.region_code, institution_ids=[institution.id]
        ):
            raise InstitutionNotFound()
        service.check_may_edit(
            self.principal, institution_id=institution.id, region_code=institution.region_code, changed=()
        )
        history_rules.check_year_reportable(institution, data.year, self.today)
        values = data.model_dump(include=set(FIGURES))
        current = self.existing.get((institution.id, data.year))
        if current is None:
            row = InstitutionYearStat(
                id=uuid.uuid4(),
                institution_id=institution.id,
                region_code=institution.region_code,
                year=data.year,
                **values,
            )
            self.new.append(row)
            record.written(BulkOutcome.created, id=row.id, version=1, changes=values)
            self._audit(record, institution.id, data.year, audit.diff({}, values))
            return
        changed = changed_fields({key: getattr(current, key) for key in FIGURES}, values)
        if not changed:
            record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
            return
        for key in changed:
            setattr(current, key, values[key])
        record.written(BulkOutcome.updated, id=current.id, version=current.version + 1, changes=changed)
        self._audit(record, institution.id, data.year, changed)

    def _audit(
        self, record: BulkRecord[Any], institution_id: uuid.UUID, year: int, diff: dict[str, Any]
    ) -> None:
        audit.record(
            self.session,
            self.principal,
            action="institution.year_stat",
            entity_type=service.ENTITY,
            entity_id=institution_id,
            changes={
                "year": year,
                **diff,
                "via": VIA,
                "source_system": self.source_system,
                "external_id": record.external_id,
            },
        )


async def upsert(
    session: AsyncSession,
    principal: Principal,
    request: YearStatBulkRequest,
    *,
    today: date,
    max_records: int,
) -> BulkResponse:
    """Create, replace or leave unchanged each (institution, year)'s figures."""
    batch = open_batch(request.source_system, request.records, max_records=max_records)
    batch.validate(YearStatRecord, exclude=())

    def key(record: BulkRecord[Any]) -> tuple[uuid.UUID, int] | None:
        data = cast(YearStatRecord | None, record.data)
        return (data.institution_id, data.year) if data is not None else None

    batch.reject_duplicates(key, "year")
    wanted = [k for k in (key(r) for r in batch.live()) if k is not None]
    found: dict[uuid.UUID, Institution] = {}
    existing: dict[tuple[uuid.UUID, int], InstitutionYearStat] = {}
    if wanted:
        rows = await session.scalars(select(Institution).where(Institution.id.in_({k[0] for k in wanted})))
        found = {row.id: row for row in rows}
        held = await session.scalars(
            select(InstitutionYearStat)
            .where(tuple_(InstitutionYearStat.institution_id, InstitutionYearStat.year).in_(wanted))
            .with_for_update()
        )
        existing = {(row.institution_id, row.year): row for row in held}
    work = _Upsert(
        session=session,
        principal=principal,
        source_system=request.source_system,
        today=today,
        institutions=found,
        existing=existing,
    )
    batch.check(work.check)
    session.add_all(work.new)
    await session.flush()
    return batch.response()
