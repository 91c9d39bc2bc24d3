"""How the homecare demo writes its recipients and orders: through the homecare service's own write paths,
in-process, as a province admin with source system ``demo``, keyed by the demo ids.

- recipients: :func:`services.homecare.sync.service.upsert_recipients` (the steps of
  ``POST /recipients/bulk``: the rule of ``POST /recipients``, audit, change feed), keeping the demo ids;
- past orders (completed, rated, cancelled — with their timeline, visit record, rating, SOS alert and
  complaint): :func:`services.homecare.sync.history.import_orders` (``POST /orders/history/bulk``), the
  registry's answers about nurses and doctors given by :class:`DemoPractitioners` from the registry's demo;
- orders still under way (submitted, accepted, assigned): placed by
  :func:`services.homecare.sync.service.upsert_orders` (``POST /orders/bulk``) and moved on by the
  provider's admin through the order's own transitions (``lifecycle.assess`` / ``accept`` / ``assign``).

Every record must be written: one the rules refuse stops the seed naming it and the rule's code
(:class:`SeedRejected`); one already there (a second run) is left as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from demo import SeedRejected, demo_id
from demo.province import Province
from demo.registry import NAMED_PRACTITIONERS
from libs.common.auth import Principal, Role
from libs.common.bulk import DEFAULT_MAX_RECORDS, BulkOutcome, BulkRecordResult, open_batch
from libs.common.divisions import PROVINCE_CODE
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare.clients.registry import FetchedPractitioner, PractitionerInfo
from services.homecare.orders import lifecycle
from services.homecare.orders.models import Order, ServiceGroup
from services.homecare.orders.schemas import AssessBody, AssignBody
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings
from services.homecare.sync import history
from services.homecare.sync import service as sync

SEEDER: Final = Principal(sub="demo-seed", role=Role.province_admin, region_code=PROVINCE_CODE)
SOURCE_SYSTEM: Final = "demo"
VERY_OLD_AGE = 80


class DemoPractitioners:
    """The registry as the orders' import asks it (each provider's practitioners), answered from the
    registry's demo (:func:`demo.province.read_province`: active practitioners without a misconduct
    record) — without it, from the registry demo's named practitioners."""

    def __init__(self, province: Province) -> None:
        self.known: dict[uuid.UUID, PractitionerInfo] = {}
        for person in province.people:
            self.known[person.id] = PractitionerInfo(
                id=person.id,
                institution_id=person.institution_id,
                kind=person.kind,
                title=person.title,
                homecare_eligible=person.eligible_nurse,
                active=True,
            )
        if not province.people:
            for name, institution, kind, title, years in NAMED_PRACTITIONERS:
                person_id = demo_id("practitioner", name)
                self.known[person_id] = PractitionerInfo(
                    id=person_id,
                    institution_id=demo_id("institution", institution),
                    kind=kind,
                    title=title,
                    homecare_eligible=kind == "nurse"
                    and years >= 5
                    and lifecycle.title_rank(title) >= lifecycle.title_rank("senior_nurse"),
                    active=True,
                )

    async def practitioners_of(
        self, institution_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, PractitionerInfo]:
        wanted = set(institution_ids)
        return {k: v for k, v in self.known.items() if v.institution_id in wanted}

    def fetched(self, practitioner_id: uuid.UUID) -> FetchedPractitioner:
        return FetchedPractitioner(self.known.get(practitioner_id))


def service_group(recipient: dict[str, Any], day: datetime) -> ServiceGroup:
    """The group a provider's 首诊 would find for a demo recipient record (chronic disease, disability or
    dementia, 高龄, else rehabilitation)."""
    if recipient.get("chronic_diseases"):
        return ServiceGroup.chronic
    if recipient.get("disability_level", 0) >= 1 or recipient.get("dementia"):
        return ServiceGroup.frail_disabled_demented
    birth = datetime.fromisoformat(str(recipient["birth_date"])).date()
    if clock.age_on(birth, clock.local_date(day)) >= VERY_OLD_AGE:
        return ServiceGroup.very_old
    return ServiceGroup.rehabilitation


async def _absent(
    session: AsyncSession, model: type[Any], records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The records whose demo id (their ``external_id``) is not stored yet: what exists — from an earlier
    run, or an older seed that wrote it directly — is left as it is."""
    ids = [uuid.UUID(r["external_id"]) for r in records]
    present = {str(i) for i in (await session.scalars(select(model.id).where(model.id.in_(ids)))).all()}
    return [r for r in records if r["external_id"] not in present]


def _refused(results: Sequence[BulkRecordResult], names: Sequence[str]) -> list[tuple[str, BulkRecordResult]]:
    return [
        (name, result)
        for name, result in zip(names, results, strict=True)
        if result.outcome not in (BulkOutcome.created, BulkOutcome.unchanged)
    ]


async def write_recipients(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    records: list[dict[str, Any]],
    *,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> int:
    """Recipient records (the body of ``POST /recipients`` plus ``external_id`` = the demo id) through the
    recipients' bulk path; each keeps its demo id; one already there is left as it is. Returns how many
    were created."""
    records = await _absent(session, Recipient, records)
    created = 0
    for start in range(0, len(records), max_records):
        chunk = records[start : start + max_records]
        batch = open_batch(SOURCE_SYSTEM, chunk, max_records=max_records)
        await sync.upsert_recipients(session, SEEDER, cipher, batch, new_id=uuid.UUID)
        response = batch.response()
        refused = _refused(response.results, [r["external_id"] for r in chunk])
        if refused:
            raise SeedRejected(refused, rules="居家护理", what="演示服务对象")
        created += response.counts.created
    return created


async def import_history(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    practitioners: DemoPractitioners,
    records: list[dict[str, Any]],
    *,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> int:
    """Past order records (``external_id`` = the demo id) through the orders' historical import; each
    keeps its demo id; one already imported (a second run) is left as it is. Returns how many were
    created."""
    records = await _absent(session, Order, records)
    created = 0
    for start in range(0, len(records), max_records):
        chunk = records[start : start + max_records]
        batch = open_batch(SOURCE_SYSTEM, chunk, max_records=max_records)
        await history.import_orders(session, SEEDER, cipher, settings, practitioners, batch, new_id=uuid.UUID)
        response = batch.response()
        refused = _refused(response.results, [r["external_id"] for r in chunk])
        if refused:
            raise SeedRejected(refused, rules="居家护理", what="演示历史订单")
        created += response.counts.created
    return created


@dataclass
class ActiveOrder:
    """An order still under way: placed, then (as far as ``status`` says) assessed, accepted, assigned."""

    record: dict[str, Any]  # the body of POST /orders/bulk, external_id = the demo id
    status: str  # submitted | accepted | assigned
    service_group: ServiceGroup = ServiceGroup.chronic
    nurse: uuid.UUID | None = None
    #: the provider's doctor who assesses it (an order with a high-risk or 医嘱 item needs one)
    doctor: uuid.UUID | None = None


def _provider_admin(institution_id: uuid.UUID, region_code: str) -> Principal:
    return Principal(
        sub=f"demo-seed:{institution_id}",
        role=Role.institution_admin,
        region_code=region_code,
        institution_id=institution_id,
    )


async def place_active(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    practitioners: DemoPractitioners,
    orders: list[ActiveOrder],
) -> int:
    """Orders under way: placed through the orders' bulk path (``POST /orders/bulk``), each keeping its
    demo id, then moved on by the provider's admin through ``assess``, ``accept`` and ``assign``. An
    order already there is left as it is. Returns how many were placed."""
    if not orders:
        return 0
    absent = {r["external_id"] for r in await _absent(session, Order, [o.record for o in orders])}
    wanted = [o for o in orders if o.record["external_id"] in absent]
    if not wanted:
        return 0
    batch = open_batch(SOURCE_SYSTEM, [o.record for o in wanted], max_records=DEFAULT_MAX_RECORDS)
    await sync.upsert_orders(session, SEEDER, cipher, settings, batch, new_id=uuid.UUID)
    response = batch.response()
    refused = _refused(response.results, [o.record["external_id"] for o in wanted])
    if refused:
        raise SeedRejected(refused, rules="居家护理", what="演示订单")
    ids = [uuid.UUID(o.record["external_id"]) for o in wanted if o.status != "submitted"]
    loaded = {
        order.id: order
        for order in await session.scalars(
            select(Order)
            .where(Order.id.in_(ids))
            .options(selectinload(Order.items), selectinload(Order.recipient))
        )
    }
    for active in wanted:
        if active.status == "submitted":
            continue
        order = loaded[uuid.UUID(active.record["external_id"])]
        admin = _provider_admin(order.institution_id, order.region_code)
        assessor = admin
        if active.doctor is not None:
            assessor = Principal(
                sub=f"demo-seed:{active.doctor}",
                role=Role.institution_staff,
                region_code=order.region_code,
                institution_id=order.institution_id,
                practitioner_id=active.doctor,
            )
        await lifecycle.assess(
            session,
            assessor,
            practitioners.fetched(active.doctor) if active.doctor else FetchedPractitioner(None),
            settings,
            order,
            AssessBody(service_group=active.service_group),
            "*",
        )
        await lifecycle.accept(session, admin, settings, order, "*")
        if active.status == "assigned":
            assert active.nurse is not None
            await lifecycle.assign(
                session,
                admin,
                practitioners.fetched(active.nurse),
                settings,
                order,
                AssignBody(nurse_practitioner_id=active.nurse),
                "*",
            )
    return len(wanted)
