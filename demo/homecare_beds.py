"""The homecare demo's catalog, providers and home beds, written through the homecare service's own paths.

What :mod:`demo.homecare` and :mod:`demo.homecare_province` build (the ``CatalogVersion`` file, unsaved
``Provider`` / ``ProviderItem`` / ``HomeBed`` objects) goes in through the functions the HTTP endpoints
call, in-process, as a province administrator (:data:`SEEDER`) with source system ``demo``, keyed by the
demo ids:

- the catalog: :func:`catalog_version` — ``catalog.service.publish`` (``POST /catalog/versions``) with the
  file parsed by ``catalog.importing.parse``, unless the version is there (the data migration
  ``homecare_0002`` loads ``inferred-1`` too);
- providers and their prices: :func:`write_providers` — ``providers.bulk`` (``POST /providers/bulk``: who
  may be a provider by the registry's flags, fee ceiling, current catalog, price guidance, audit, feed);
- past home beds (opened or closed): :func:`write_home_beds` — ``home_beds.history`` (``POST
  /home-beds/bulk``: the provider runs home beds, the person qualifies, an active doctor of the provider
  assessed, opened, re-assessed and did the rounds, dates in order and in the past, one episode at a time,
  audit, feed with the original dates); a bed keeps its demo id (the orders linked to it name it);
- a bed only applied for: :func:`apply_home_bed` — ``home_beds.service.apply`` (``POST /home-beds``) as the
  provider's administrator.

The registry is answered from the registry's demo database (:class:`DemoRegistry` over
:class:`demo.province.Province`, plus the named institutions and doctors when the province is not loaded).
A record the service refuses stops the seed naming it and the code (:class:`SeedRejected`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import SeedRejected
from demo.province import Province
from libs.common.auth import Principal, Role
from libs.common.bulk import DEFAULT_MAX_RECORDS, BulkOutcome, BulkRecord, BulkRecordResult, open_batch
from libs.common.divisions import PROVINCE_CODE
from services.homecare import clock
from services.homecare.catalog import importing
from services.homecare.catalog import service as catalog
from services.homecare.catalog.models import CatalogVersion
from services.homecare.clients.registry import InstitutionInfo, PractitionerInfo
from services.homecare.home_beds import history
from services.homecare.home_beds import service as home_beds
from services.homecare.home_beds.models import HomeBed, HomeBedSource, HomeBedStatus
from services.homecare.home_beds.schemas import HomeBedApply, HomeBedHistoryRecord
from services.homecare.providers import bulk as providers_bulk
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.settings import HomecareSettings

SEEDER = Principal(sub="demo-seed", role=Role.province_admin, region_code=PROVINCE_CODE)
SOURCE_SYSTEM = "demo"
ROUND_FINDINGS = "查床：生命体征平稳，按计划护理"
REASSESSMENT_NOTE = "周期届满再评估，仍符合建床条件"


class DemoRegistry:
    """The registry as the homecare service asks it (institutions, practitioners), answered from the
    registry's demo database; ``institutions`` / ``practitioners`` add what the named story needs when the
    province is not loaded (a seed run on its own). No HTTP: nothing goes over the network."""

    def __init__(
        self,
        province: Province,
        *,
        institutions: Iterable[InstitutionInfo] = (),
        practitioners: Iterable[PractitionerInfo] = (),
    ) -> None:
        self.institutions = {i.id: i for i in institutions}
        self.practitioners = {p.id: p for p in practitioners}
        for place in province.places:  # the registry's demo reads active institutions only
            self.institutions[place.id] = InstitutionInfo(
                id=place.id,
                name=place.name,
                kind=place.kind,
                region_code=place.region_code,
                active=True,
                internet_nursing_provider=place.internet_nursing_provider,
                home_bed_service=place.home_bed_service,
            )
        for person in province.people:  # active, without a misconduct record
            self.practitioners[person.id] = PractitionerInfo(
                id=person.id,
                institution_id=person.institution_id,
                kind=person.kind,
                title=person.title,
                homecare_eligible=person.eligible_nurse,
                active=True,
            )

    async def get_institution(self, institution_id: uuid.UUID) -> InstitutionInfo | None:
        return self.institutions.get(institution_id)

    async def get_practitioner(self, practitioner_id: uuid.UUID) -> PractitionerInfo | None:
        return self.practitioners.get(practitioner_id)


def _refused(
    names: Sequence[str], results: Sequence[BulkRecordResult], accepted: frozenset[BulkOutcome]
) -> list[tuple[str, BulkRecordResult]]:
    return [(n, r) for n, r in zip(names, results, strict=True) if r.outcome not in accepted]


# ------------------------------------------------------------------------------------------- catalog


async def catalog_version(
    session: AsyncSession, *, code: str, source: str, filename: str, content: bytes
) -> CatalogVersion:
    """The catalog version ``code``: the stored one, else the file (``filename``, ``content``) parsed and
    published through the catalog service (the validation and audit of ``POST /catalog/versions``)."""
    stored = await session.scalar(select(CatalogVersion).where(CatalogVersion.code == code))
    if stored is not None:
        return stored
    items = importing.parse(filename, content)
    return await catalog.publish(session, SEEDER, code=code, source=source, note="演示数据", items=items)


# ----------------------------------------------------------------------------------------- providers


def provider_record(provider: Provider, items: Iterable[ProviderItem]) -> dict[str, Any]:
    """A provider as ``POST /providers/bulk`` takes it (its name, county and home-bed flag come from the
    registry, as in the single PUT)."""
    return {
        "external_id": str(provider.institution_id),
        "institution_id": str(provider.institution_id),
        "visit_fee_yuan": str(provider.visit_fee_yuan),
        "items": [
            {"item_code": i.item_code, "price_yuan": str(i.price_yuan), "enabled": i.enabled is not False}
            for i in items
        ],
    }


async def write_providers(
    session: AsyncSession,
    settings: HomecareSettings,
    registry: DemoRegistry,
    providers: Sequence[Provider],
    items: Sequence[ProviderItem] = (),
    *,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> int:
    """Write ``providers`` and their ``items`` (unsaved objects) through ``providers.bulk``; returns how many
    were created or updated. Stored ones equal to what is sent are ``unchanged``."""
    by_institution: dict[uuid.UUID, list[ProviderItem]] = defaultdict(list)
    for item in items:
        by_institution[item.institution_id].append(item)
    records = [provider_record(p, by_institution[p.institution_id]) for p in providers]
    names = [p.institution_name for p in providers]
    written = 0
    for start in range(0, len(records), max_records):
        batch = open_batch(SOURCE_SYSTEM, records[start : start + max_records], max_records=max_records)
        providers_bulk.validate(batch)
        institutions = await providers_bulk.fetch_institutions(registry, batch)
        await providers_bulk.upsert(session, SEEDER, settings, batch, institutions)
        response = batch.response()
        refused = _refused(
            names[start : start + max_records],
            response.results,
            frozenset({BulkOutcome.created, BulkOutcome.updated, BulkOutcome.unchanged}),
        )
        if refused:
            raise SeedRejected(refused, rules="居家护理")
        written += response.counts.created + response.counts.updated
    return written


async def stored_providers(
    session: AsyncSession, institution_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Provider]:
    """The providers as stored (after :func:`write_providers`), by institution."""
    rows = await session.scalars(select(Provider).where(Provider.institution_id.in_(list(institution_ids))))
    return {p.institution_id: p for p in rows}


# ---------------------------------------------------------------------------------------- home beds


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.CHINA_TZ)


def home_bed_record(bed: HomeBed, settings: HomecareSettings, today: date) -> dict[str, Any]:
    """A past episode built the way the demo builds its ``HomeBed`` rows, as ``POST /home-beds/bulk``
    takes it (Python values: the record model validates them as it validates JSON): the assessment and
    opening as recorded; one re-assessment at the end of each period it counts (``reassessment_count``,
    so the current period ends where the row says); its last 查床 round on ``last_round_date`` by the
    doctor who opened it (none when that date is not between the opening and the closing or today: no
    round yet); the closing, if it ended."""
    assert bed.opened_date is not None
    assert bed.opened_at is not None
    assert bed.assessed_at is not None
    period = settings.home_bed_period_days
    doctor = bed.opened_by_practitioner_id
    assessor = bed.assessed_by_practitioner_id
    reassessments = [
        # at the start of the day the period ends: never later than now, even when that day is today
        {
            "assessed_at": _moment(bed.opened_date + timedelta(days=period * k), 0),
            "practitioner_id": doctor,
            "note": REASSESSMENT_NOTE,
        }
        for k in range(1, (bed.reassessment_count or 0) + 1)
    ]
    record: dict[str, Any] = {
        "external_id": str(bed.id),
        "institution_id": bed.institution_id,
        "recipient_id": bed.recipient_id,
        "record_no": bed.record_no,
        "diagnosis": bed.diagnosis,
        "condition_stable": bed.condition_stable,
        "mobility": getattr(bed.mobility, "value", bed.mobility),
        "conditions": list(bed.conditions),
        "has_family_doctor_contract": bed.has_family_doctor_contract,
        "application_note": bed.application_note,
        "assessment": {
            "assessed_at": bed.assessed_at,
            "practitioner_id": assessor,
            "note": (bed.assessment or {}).get("note"),
        },
        "opening": {
            "opened_at": bed.opened_at,
            "practitioner_id": doctor,
            "care_plan": bed.care_plan,
            "consent_at": bed.consent_at or bed.opened_at,
            "round_interval_days": bed.round_interval_days,
        },
        "reassessments": reassessments,
        "rounds": [
            {"round_date": last_round, "practitioner_id": doctor, "findings": ROUND_FINDINGS}
            for last_round in [bed.last_round_date]
            if last_round is not None and bed.opened_date <= last_round <= (bed.closed_date or today)
        ],
    }
    if bed.status is HomeBedStatus.closed:
        assert bed.closed_at is not None
        record["closing"] = {
            "closed_at": bed.closed_at,
            "reason": getattr(bed.close_reason, "value", bed.close_reason),
            "summary": bed.close_summary,
        }
    return record


async def write_home_beds(
    session: AsyncSession,
    settings: HomecareSettings,
    registry: DemoRegistry,
    beds: Sequence[HomeBed],
    *,
    today: date | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> int:
    """Write past home beds (``HomeBed`` objects, opened or closed, not added to the session) through
    ``home_beds.history`` with their demo ids; returns how many were created. The recipients they name must
    be stored already; beds written by an earlier run are skipped. One refused stops the seed."""
    day = today or clock.today()
    stored = set(
        (
            await session.scalars(
                select(HomeBedSource.external_id).where(HomeBedSource.source_system == SOURCE_SYSTEM)
            )
        ).all()
    )
    present = set(
        (await session.scalars(select(HomeBed.id).where(HomeBed.id.in_([b.id for b in beds])))).all()
    )
    # written by an earlier run, through this path or (before it) directly
    pending = [b for b in beds if str(b.id) not in stored and b.id not in present]
    created = 0
    for start in range(0, len(pending), max_records):
        chunk = pending[start : start + max_records]
        batch = open_batch(
            SOURCE_SYSTEM, [home_bed_record(b, settings, day) for b in chunk], max_records=max_records
        )
        history.validate(batch)
        practitioners = await history.fetch_practitioners(registry, history.practitioner_ids(batch))
        await history.upsert(session, SEEDER, settings, batch, practitioners, new_id=_demo_id)
        response = batch.response()
        refused = _refused(
            [f"{b.provider_name} {b.record_no}" for b in chunk],
            response.results,
            frozenset({BulkOutcome.created}),
        )
        if refused:
            raise SeedRejected(refused, rules="居家护理")
        created += response.counts.created
    return created


def _demo_id(record: BulkRecord[HomeBedHistoryRecord]) -> uuid.UUID:
    """A demo bed keeps its demo id (its ``external_id``): the demo's orders link to it by that id."""
    assert record.external_id is not None
    return uuid.UUID(record.external_id)


async def apply_home_bed(session: AsyncSession, settings: HomecareSettings, bed: HomeBed) -> HomeBed | None:
    """A home bed only applied for (``HomeBed`` object, status applied), through ``POST /home-beds``'s
    function as the provider's administrator; skipped (None) when the person already has one."""
    existing = await session.scalar(select(HomeBed.id).where(HomeBed.recipient_id == bed.recipient_id))
    if existing is not None:
        return None
    admin = Principal(
        sub="demo-seed",
        role=Role.institution_admin,
        region_code=bed.region_code,
        institution_id=bed.institution_id,
    )
    data = HomeBedApply(
        recipient_id=bed.recipient_id,
        diagnosis=bed.diagnosis,
        condition_stable=bed.condition_stable,
        mobility=bed.mobility,
        conditions=list(bed.conditions),
        has_family_doctor_contract=bed.has_family_doctor_contract,
        application_note=bed.application_note,
    )
    return await home_beds.apply(session, admin, data, settings)


__all__ = [
    "SEEDER",
    "SOURCE_SYSTEM",
    "DemoRegistry",
    "SeedRejected",
    "apply_home_bed",
    "catalog_version",
    "home_bed_record",
    "provider_record",
    "stored_providers",
    "write_home_beds",
    "write_providers",
]
