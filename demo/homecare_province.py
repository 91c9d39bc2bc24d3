"""The province part of the homecare demo: providers, home beds, orders, visit records, ratings.

On the institutions and practitioners of the registry's demo (:mod:`demo.province`), deterministic:

- **Providers**: every 互联网+护理服务 institution the registry flags, and the medical institutions that
  run 家庭病床 — exactly those the registry's demo flags ``home_bed_service`` (269, indicators.md
  ``home_bed_providers``, source 000) — each opening home beds every year from 2024 on; 湖里 opens 296 in
  2024 (source 001).
- **Home beds**: opened after an assessment, closed with a reason and a summary when their episode ended
  (re-assessed every 90 days while it lasts), the rest still open; one patient each.
- **Orders** over two years at the 互联网+护理 providers, and the nursing visits of home beds as orders
  linked to their bed (``home_bed_id``, open on that day), rated on their own (建床对象满意率 reads
  them); each completed order has its visit record by an eligible nurse of the provider (≥ 5 years, 护师
  or above), an order with a 医嘱 item was assessed by a doctor of the provider; the nurse arrives 20–90
  minutes after the request; a few cancelled the evening before; a few resolved SOS alerts and
  complaints; two orders per provider waiting (to assess, to dispatch).

Written through the homecare service's own paths (:mod:`demo.homecare_orders`): recipients by the
recipients' bulk path, past orders — with their timeline, visit record, rating, SOS and complaint — by
the orders' historical import (``POST /orders/history/bulk``), the waiting ones by the orders' bulk path
and the provider's transitions; providers and their prices by the providers' bulk path, past home beds
— assessment, opening, re-assessments, rounds, closing — by the home beds' historical import (``POST
/home-beds/bulk``, :mod:`demo.homecare_beds`); a record the rules refuse stops the seed
(``SeedRejected``). Idempotent as a block (skipped when its first home bed exists).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id
from demo.homecare_beds import DemoRegistry, write_home_beds, write_providers
from demo.homecare_orders import (
    ActiveOrder,
    DemoPractitioners,
    import_history,
    place_active,
    service_group,
    write_recipients,
)
from demo.province import Person, Place, Province
from libs.common.identifiers import id_number_check_char
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare.catalog.models import CatalogItem, CatalogVersion
from services.homecare.home_beds.models import (
    CloseReason,
    HomeBed,
    HomeBedStatus,
    Mobility,
    QualifyingCondition,
)
from services.homecare.orders.models import OrderStatus, ServiceGroup
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.settings import HomecareSettings

HOME_BED_PROVIDERS = 269  # indicators.md home_bed_providers (000)
HULI = "350206"
HULI_YEAR = 2024
HULI_BEDS = 296  # indicators.md home_beds_opened, 湖里 2024 (001)
FIRST_YEAR = 2024
NAMED_PROVIDERS = frozenset({"厦门新开元医院", "厦门莲花医院"})
PRICES = {
    "HC01": "60.00",
    "HC02": "30.00",
    "HC05": "50.00",
    "HC06": "50.00",
    "HC07": "80.00",
    "HC09": "100.00",
}
BED_ITEMS = ("HC01", "HC05", "HC06", "HC09")
SURNAMES = "林陈黄张吴王郑李刘蔡杨许叶曾周谢何苏邱游"
GIVEN = ("秀英", "桂兰", "玉珍", "金水", "阿妹", "国华", "淑贞", "文清", "丽珠", "建成", "宝珠", "天赐")
DIAGNOSES = (
    ("脑梗死后遗症，长期卧床", ["stroke_or_post_surgery_rehab", "chronic_bed_rest"]),
    ("股骨颈骨折术后", ["fracture_fixation"]),
    ("晚期肺癌", ["advanced_cancer", "palliative_care"]),
    ("2型糖尿病伴糖尿病足", ["skin_stoma_incontinence"]),
    ("慢性阻塞性肺病，留置胃管", ["tubes", "chronic_bed_rest"]),
    ("帕金森病，压力性损伤", ["skin_stoma_incontinence", "chronic_bed_rest"]),
)
CLOSE = (
    (CloseReason.recovered_or_stable, 0.55, "病情稳定，按计划撤床"),
    (CloseReason.period_ended, 0.15, "建床周期届满，未申请续床"),
    (CloseReason.admitted_to_hospital, 0.12, "病情变化，转入住院治疗"),
    (CloseReason.died, 0.1, "患者病逝，家属办理撤床"),
    (CloseReason.family_request, 0.08, "家属要求撤床"),
)
#: the states a past order is imported in (the others are placed and moved on)
FINAL = frozenset({OrderStatus.completed, OrderStatus.rated, OrderStatus.cancelled})
COMMENTS = ("护士很耐心", "服务专业，准时上门", "操作规范，讲解清楚", "态度好")


def _pick_close(rng: random.Random) -> tuple[CloseReason, str]:
    draw, total = rng.random(), 0.0
    for reason, share, summary in CLOSE:
        total += share
        if draw < total:
            return reason, summary
    return CLOSE[0][0], CLOSE[0][2]


def choose_bed_providers(province: Province, named: list[Place]) -> list[Place]:
    """The medical institutions running home beds: the named ones and those the registry flags
    (``home_bed_service``, about 269 — the registry's demo decides, so that every home-bed provider's
    institution carries the flag and the two services agree)."""
    chosen = {p.id: p for p in named}
    for p in province.places:
        if p.kind == "medical" and p.home_bed_service and p.name not in NAMED_PROVIDERS:
            chosen[p.id] = p
    return list(chosen.values())


@dataclass(frozen=True, slots=True)
class DemoRecipient:
    """A recipient the demo registers (through the recipients' bulk path): its id and its record."""

    id: uuid.UUID
    record: dict[str, Any]


@dataclass(slots=True)
class DemoOrder:
    """An order the demo writes: a past one (through the historical import) or one under way."""

    record: dict[str, Any]
    status: OrderStatus
    service_group: ServiceGroup
    doctor: uuid.UUID | None
    institution_id: uuid.UUID
    nurse: uuid.UUID | None
    checked_in_at: datetime | None
    completed_at: datetime | None
    latitude: float | None
    longitude: float | None


class _Builder:
    def __init__(
        self,
        cipher: PersonalDataCipher,
        settings: HomecareSettings,
        version: CatalogVersion,
        items: dict[str, Any],
        doctors: dict[uuid.UUID, list[Person]],
    ) -> None:
        self.cipher = cipher
        self.settings = settings
        self.version = version
        self.items = items
        self.doctors = doctors
        self.objects: list[Any] = []
        self.recipients: list[DemoRecipient] = []
        self.orders: list[DemoOrder] = []
        self.serial = 0
        self.count: dict[str, int] = defaultdict(int)

    def add(self, obj: Any) -> None:
        self.objects.append(obj)
        self.count[type(obj).__name__] += 1

    def recipient(self, place: Place, rng: random.Random, *, disability: int) -> DemoRecipient:
        self.serial += 1
        n = self.serial
        birth = date(1928 + n % 30, 1 + n % 12, 1 + n % 28)
        # sequence 500–749: the residents seed numbers its elders from 0 a birth day, the contracts seed
        # 750–999, so no two seeds give one number to two people (the link would refuse the second)
        first17 = f"{place.region_code}{birth:%Y%m%d}{500 + n % 250:03d}"
        number = first17 + id_number_check_char(first17)
        lat = (place.latitude or 26.0) + rng.uniform(-0.02, 0.02)
        lng = (place.longitude or 119.3) + rng.uniform(-0.02, 0.02)
        recipient_id = demo_id("recipient", f"province:{n}")
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        address = f"{place.name}附近 {rng.randint(1, 200)} 号"
        dementia = rng.random() < 0.15
        diseases = ["高血压"] if rng.random() < 0.6 else []
        record = {
            "external_id": str(recipient_id),
            "institution_id": str(place.id),
            "name": name,
            "id_number": number,
            "phone": f"139{n:08d}",
            "address": address,
            "region_code": place.region_code,
            "latitude": round(lat, 5),
            "longitude": round(lng, 5),
            "birth_date": birth.isoformat(),
            "disability_level": disability,
            "dementia": dementia,
            "chronic_diseases": diseases,
            "consent": {
                "given_at": datetime(FIRST_YEAR, 1, 1, 1, 0, tzinfo=clock.CHINA_TZ).isoformat(),
                "method": "written",
                "signed_by": "family",
            },
        }
        recipient = DemoRecipient(recipient_id, record)
        self.recipients.append(recipient)
        self.count["Recipient"] += 1
        return recipient

    def order(
        self,
        key: str,
        place: Place,
        recipient: DemoRecipient,
        codes: list[str],
        status: OrderStatus,
        start: datetime,
        nurse: Person | None,
        rng: random.Random,
        *,
        home_bed: HomeBed | None = None,
        score: int | None = None,
    ) -> DemoOrder:
        """A past order (completed, rated, cancelled: the historical import's record, with its timeline,
        visit record and rating) or one under way (submitted, accepted: placed, then assessed and
        accepted by the provider)."""
        order_id = demo_id("order", key)
        record: dict[str, Any] = {
            "external_id": str(order_id),
            "institution_id": str(place.id),
            "recipient_id": str(recipient.id),
            "item_codes": codes,
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(hours=2)).isoformat(),
        }
        if home_bed is not None:
            record["home_bed_id"] = str(home_bed.id)
        done = status in (OrderStatus.completed, OrderStatus.rated)
        checked_in = completed = None
        assessed = clock.now()
        if status in (OrderStatus.submitted, OrderStatus.accepted):
            pass  # placed through the orders' bulk path, then moved on (place_active)
        elif done:
            assert nurse is not None
            # the nurse arrives 20–90 minutes after the request (the response time), 5 minutes into the window
            checked_in = start + timedelta(minutes=5)
            submitted = checked_in - timedelta(minutes=rng.randint(20, 90))
            span = checked_in - submitted
            assessed = submitted + span * 0.1
            completed = start + timedelta(minutes=75)
            record.update(
                status=status.value,
                nurse_practitioner_id=str(nurse.id),
                timeline={
                    "submitted_at": submitted.isoformat(),
                    "assessed_at": assessed.isoformat(),
                    "accepted_at": (submitted + span * 0.2).isoformat(),
                    "assigned_at": (submitted + span * 0.3).isoformat(),
                    "departed_at": (submitted + span * 0.5).isoformat(),
                    "checked_in_at": checked_in.isoformat(),
                    "started_at": (start + timedelta(minutes=10)).isoformat(),
                    "checked_out_at": (start + timedelta(minutes=70)).isoformat(),
                    "completed_at": completed.isoformat(),
                },
                visit_record={
                    "record_id": str(demo_id("visit_record", key)),
                    "recorded_at": completed.isoformat(),
                    "items_done": codes,
                    "vital_signs": {
                        "bp_systolic": rng.randint(115, 150),
                        "bp_diastolic": rng.randint(65, 92),
                        "pulse": rng.randint(60, 95),
                        "temperature_c": "36.5",
                        "spo2": rng.randint(93, 99),
                    },
                    "consumables": [{"name": "一次性换药包", "qty": 1, "unit_price_yuan": "12.50"}],
                    "notes": "生命体征平稳，已完成健康宣教",
                },
            )
        else:  # cancelled the evening before, after the provider accepted it
            submitted = start - timedelta(hours=20)
            assessed = submitted + timedelta(hours=1)
            record.update(
                status=status.value,
                timeline={
                    "submitted_at": submitted.isoformat(),
                    "assessed_at": assessed.isoformat(),
                    "accepted_at": (submitted + timedelta(hours=1, minutes=10)).isoformat(),
                    "cancelled_at": (submitted + timedelta(hours=3)).isoformat(),
                },
                cancel_reason="家属改期",
            )
        group = service_group(recipient.record, assessed)
        doctors = self.doctors.get(place.id)
        doctor = (
            doctors[0].id
            if doctors
            and any(self.items[c].risk == "high" or self.items[c].needs_medical_order for c in codes)
            else None
        )
        if status not in (OrderStatus.submitted, OrderStatus.accepted):
            record["service_group"] = group.value
            if doctor is not None:
                record["assessed_by_practitioner_id"] = str(doctor)
        if status is OrderStatus.rated and completed is not None:
            value = (
                score if score is not None else (5 if rng.random() < 0.8 else 4 if rng.random() < 0.8 else 3)
            )
            record["rating"] = {
                "score": value,
                "comment": rng.choice(COMMENTS) if value >= 4 else "上门时间比约定晚",
                "rated_by": "family",
                "rated_at": (completed + timedelta(hours=3)).isoformat(),
            }
        order = DemoOrder(
            record=record,
            status=status,
            service_group=group,
            doctor=doctor,
            institution_id=place.id,
            nurse=nurse.id if nurse and done else None,
            checked_in_at=checked_in,
            completed_at=completed,
            latitude=recipient.record["latitude"],
            longitude=recipient.record["longitude"],
        )
        self.orders.append(order)
        self.count["Order"] += 1
        return order


def _moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=clock.CHINA_TZ)


async def province_seed(
    session: AsyncSession,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    version: CatalogVersion,
    province: Province,
) -> dict[str, int]:
    if await session.get(HomeBed, demo_id("home_bed", "province:0")) is not None:
        return {}
    rng = random.Random(350033)
    today = clock.today()
    catalog = {
        i.code: i
        for i in await session.scalars(
            select(CatalogItem).where(CatalogItem.catalog_version_id == version.id)
        )
    }
    nurses: dict[uuid.UUID, list[Person]] = defaultdict(list)
    doctors: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for person in province.people:
        if person.eligible_nurse and person.name != "林晓燕":  # 林晓燕's diary is the named story's
            nurses[person.institution_id].append(person)
        if person.kind == "doctor":
            doctors[person.institution_id].append(person)
    builder = _Builder(cipher, settings, version, catalog, doctors)
    by_name = {p.name: p for p in province.places}
    named = [by_name[n] for n in ("厦门新开元医院",) if n in by_name]
    bed_places = choose_bed_providers(province, named)
    internet = [p for p in province.places if p.internet_nursing_provider and p.name not in NAMED_PROVIDERS]
    existing = set((await session.scalars(select(Provider.institution_id))).all())
    bed_ids = {p.id for p in bed_places}
    for place in {p.id: p for p in bed_places + internet}.values():
        if place.id in existing:
            continue
        builder.add(
            Provider(
                institution_id=place.id,
                institution_name=place.name,
                region_code=place.region_code,
                visit_fee_yuan=Decimal("50.00"),
                home_bed_service=place.id in bed_ids,
            )
        )
        for code, price in PRICES.items():
            builder.add(
                ProviderItem(
                    institution_id=place.id,
                    region_code=place.region_code,
                    item_code=code,
                    price_yuan=Decimal(price),
                )
            )

    # home beds, every year from 2024: 湖里 296 in 2024, the others a few each per year
    huli = [p for p in bed_places if p.region_code == HULI]
    bed_no = 0
    order_no = 0
    for year in range(FIRST_YEAR, today.year + 1):
        last_day = min(date(year, 12, 31), today - timedelta(days=1))
        span = (last_day - date(year, 1, 1)).days
        plan: list[Place] = []
        for place in bed_places:
            if place.region_code == HULI:
                continue
            plan += [place] * max(1, int(rng.randint(2, 9) * (span + 1) / 365))
        huli_total = HULI_BEDS if year == HULI_YEAR else int(rng.randint(280, 320) * (span + 1) / 365)
        for i in range(huli_total if huli else 0):
            plan.append(huli[i % len(huli)])
        for place in plan:
            opened = date(year, 1, 1) + timedelta(days=rng.randint(0, span))
            duration = rng.randint(30, 200)
            closing = opened + timedelta(days=duration)
            closed = closing < today
            recipient = builder.recipient(place, rng, disability=rng.choice((2, 3, 3, 4)))
            diagnosis, conditions = rng.choice(DIAGNOSES)
            doctor = doctors[place.id][0].id if doctors[place.id] else None
            reassessments = (min(closing, today) - opened).days // settings.home_bed_period_days
            reason, summary = _pick_close(rng)
            bed = HomeBed(
                id=demo_id("home_bed", f"province:{bed_no}"),
                record_no=f"JTBC-{place.region_code}-{year}-{bed_no:05d}",
                institution_id=place.id,
                provider_name=place.name,
                region_code=place.region_code,
                recipient_id=recipient.id,
                status=HomeBedStatus.closed if closed else HomeBedStatus.opened,
                diagnosis=diagnosis,
                condition_stable=True,
                mobility=Mobility.bedridden,
                conditions=[QualifyingCondition(c).value for c in conditions],
                has_family_doctor_contract=True,
                applied_by_sub="seed",
                assessed_at=_moment(opened - timedelta(days=2), 9),
                assessed_by_practitioner_id=doctor,
                assessment={"qualified": True, "gaps": [], "note": "符合建床条件"},
                opened_at=_moment(opened, 10),
                opened_date=opened,
                opened_by_practitioner_id=doctor,
                care_plan="每周查床一次；按医嘱护理；康复训练指导",
                consent_at=_moment(opened, 10),
                round_interval_days=settings.home_bed_round_interval_days,
                period_end_date=opened + timedelta(days=settings.home_bed_period_days * (reassessments + 1)),
                last_round_date=max(opened, min(closing, today) - timedelta(days=rng.randint(0, 6))),
                reassessment_count=reassessments,
                closed_at=_moment(closing, 16) if closed else None,
                closed_date=closing if closed else None,
                close_reason=reason if closed else None,
                close_summary=summary if closed else None,
            )
            builder.add(bed)
            bed_no += 1
            # the nursing visits of a bed, as orders linked to it, rated on their own
            staff = nurses.get(place.id)
            if staff and rng.random() < 0.35:
                for k in range(rng.randint(1, 2)):
                    day = opened + timedelta(days=7 * (k + 1))
                    if day >= today:
                        break
                    order_no += 1
                    status = OrderStatus.rated if rng.random() < 0.85 else OrderStatus.completed
                    builder.order(
                        f"province:{order_no}",
                        place,
                        recipient,
                        [rng.choice(BED_ITEMS)],
                        status,
                        _moment(day, 9),
                        rng.choice(staff),
                        rng,
                        home_bed=bed,
                    )

    # 互联网+护理服务 orders over two years at the flagged providers, a few waiting today
    start_day = today - timedelta(days=730)
    past_orders: list[DemoOrder] = []
    for place in internet:
        staff = nurses.get(place.id)
        people = [builder.recipient(place, rng, disability=rng.choice((0, 1, 2, 3))) for _ in range(12)]
        for _ in range(rng.randint(40, 110) if staff else 0):
            order_no += 1
            day = start_day + timedelta(days=rng.randint(0, 728))
            draw = rng.random()
            status = (
                OrderStatus.rated
                if draw < 0.7
                else OrderStatus.completed
                if draw < 0.9
                else OrderStatus.cancelled
            )
            codes = rng.sample(list(PRICES), rng.randint(1, 2))
            past_orders.append(
                builder.order(
                    f"province:{order_no}",
                    place,
                    rng.choice(people),
                    codes,
                    status,
                    _moment(day, rng.randint(8, 17)),
                    rng.choice(staff) if staff else None,
                    rng,
                )
            )
        for k, status in enumerate((OrderStatus.submitted, OrderStatus.accepted)):
            order_no += 1
            builder.order(
                f"province:{order_no}",
                place,
                rng.choice(people),
                ["HC01"],
                status,
                _moment(today + timedelta(days=1 + k), 10),
                None,
                rng,
            )
    done = [o for o in past_orders if o.status in (OrderStatus.completed, OrderStatus.rated)]
    for order in rng.sample(done, min(6, len(done))):
        assert order.checked_in_at is not None
        order.record["sos"] = {
            "raised_at": (order.checked_in_at + timedelta(minutes=20)).isoformat(),
            "latitude": order.latitude,
            "longitude": order.longitude,
            "message": "服务对象家属情绪激动，请求协助",
            "resolved_at": (order.checked_in_at + timedelta(minutes=45)).isoformat(),
            "resolution": "机构值班人员电话沟通后安抚，服务完成",
        }
        builder.count["SosAlert"] += 1
    now = clock.now()
    for n, order in enumerate(rng.sample(done, min(12, len(done)))):
        assert order.completed_at is not None
        resolved = n % 3 != 0
        filed = order.completed_at + timedelta(hours=1)
        order.record["complaint"] = {
            "content": "护士上门比约定时间晚了四十分钟" if n % 2 else "耗材费用说明不清楚",
            "filed_at": filed.isoformat(),
            "resolution": "已向家属致歉并调整排班" if resolved else None,
            "resolved_at": max(filed, min(order.completed_at + timedelta(days=2), now)).isoformat()
            if resolved
            else None,
        }
        builder.count["Complaint"] += 1

    # through the service's own write paths, parents first: providers, recipients, home beds, orders
    registry = DemoRegistry(province)
    await write_providers(
        session,
        settings,
        registry,
        [o for o in builder.objects if isinstance(o, Provider)],
        [o for o in builder.objects if isinstance(o, ProviderItem)],
    )
    await write_recipients(session, cipher, [r.record for r in builder.recipients])
    await write_home_beds(session, settings, registry, [o for o in builder.objects if isinstance(o, HomeBed)])
    practitioners = DemoPractitioners(province)
    past = [o for o in builder.orders if o.status in FINAL]
    await import_history(session, cipher, settings, practitioners, [o.record for o in past])
    await place_active(
        session,
        cipher,
        settings,
        practitioners,
        [
            ActiveOrder(o.record, o.status.value, o.service_group, doctor=o.doctor)
            for o in builder.orders
            if o.status not in FINAL
        ],
    )
    return dict(builder.count)
