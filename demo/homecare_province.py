"""The province part of the homecare demo: providers, home beds, orders, visit records, ratings.

On the institutions and practitioners of the registry's demo (:mod:`demo.province`), deterministic:

- **Providers**: every 互联网+护理服务 institution the registry flags, and the medical institutions that
  run 家庭病床 — exactly those the registry's demo flags ``home_bed_service`` (269, indicators.md
  ``home_bed_providers``, source 000) — each opening home beds every year from 2024 on; 湖里 opens 296 in
  2024 (source 001).
- **Home beds**: opened after an assessment, closed with a reason and a summary when their episode ended
  (re-assessed every 90 days while it lasts), the rest still open; one patient each.
- **Orders** over two years at the 互联网+护理 providers, and the nursing visits of home beds as orders
  linked to their bed (``home_bed_id``), rated on their own (建床对象满意率 reads them); each completed
  order has its visit record by an eligible nurse of the provider (≥ 5 years, 护师 or above); a few
  cancelled; SOS alerts and complaints, a few.

Idempotent as a block (skipped when its first home bed exists); ORM objects, one flush, so every feed
entry is written the way the services write it.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id
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
from services.homecare.orders import fees
from services.homecare.orders.complaints.models import Complaint, ComplaintStatus
from services.homecare.orders.models import (
    Order,
    OrderEvent,
    OrderItem,
    OrderStatus,
    RaterKind,
    Rating,
    ServiceGroup,
)
from services.homecare.orders.sos.models import SosAlert
from services.homecare.orders.visits.models import VisitRecord
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.recipients.models import ConsentMethod, ConsentSigner, Recipient
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


class _Builder:
    def __init__(
        self,
        cipher: PersonalDataCipher,
        settings: HomecareSettings,
        version: CatalogVersion,
        items: dict[str, Any],
    ) -> None:
        self.cipher = cipher
        self.settings = settings
        self.version = version
        self.items = items
        self.objects: list[Any] = []
        self.serial = 0
        self.count: dict[str, int] = defaultdict(int)

    def add(self, obj: Any) -> None:
        self.objects.append(obj)
        self.count[type(obj).__name__] += 1

    def recipient(self, place: Place, rng: random.Random, *, disability: int) -> Recipient:
        self.serial += 1
        n = self.serial
        birth = date(1928 + n % 30, 1 + n % 12, 1 + n % 28)
        first17 = f"{place.region_code}{birth:%Y%m%d}{n % 1000:03d}"
        number = first17 + id_number_check_char(first17)
        lat = (place.latitude or 26.0) + rng.uniform(-0.02, 0.02)
        lng = (place.longitude or 119.3) + rng.uniform(-0.02, 0.02)
        recipient = Recipient(
            id=demo_id("recipient", f"province:{n}"),
            institution_id=place.id,
            region_code=place.region_code,
            name_enc=self.cipher.encrypt(rng.choice(SURNAMES) + rng.choice(GIVEN)),
            id_number_enc=self.cipher.encrypt(number),
            id_number_hash=self.cipher.lookup_hash(number, "id_card"),
            phone_enc=self.cipher.encrypt(f"139{n:08d}"),
            address_enc=self.cipher.encrypt(f"{place.name}附近 {rng.randint(1, 200)} 号"),
            latitude=round(lat, 5),
            longitude=round(lng, 5),
            birth_date=birth,
            sex="female" if int(number[16]) % 2 == 0 else "male",
            disability_level=disability,
            dementia=rng.random() < 0.15,
            chronic_diseases=["高血压"] if rng.random() < 0.6 else [],
            consent_given_at=datetime(FIRST_YEAR, 1, 1, 1, 0, tzinfo=clock.CHINA_TZ),
            consent_method=ConsentMethod.written,
            consent_signed_by=ConsentSigner.family,
            created_by_sub="seed",
        )
        self.add(recipient)
        return recipient

    def order(
        self,
        key: str,
        place: Place,
        recipient: Recipient,
        codes: list[str],
        status: OrderStatus,
        start: datetime,
        nurse: Person | None,
        rng: random.Random,
        *,
        home_bed: HomeBed | None = None,
        score: int | None = None,
    ) -> Order:
        items = [self.items[c] for c in codes]
        prices = [Decimal(PRICES[c]) for c in codes]
        stamp = start - timedelta(hours=20)
        done = status in (OrderStatus.completed, OrderStatus.rated)
        order = Order(
            id=demo_id("order", key),
            institution_id=place.id,
            provider_name=place.name,
            region_code=recipient.region_code,
            recipient_id=recipient.id,
            home_bed_id=home_bed.id if home_bed else None,
            catalog_version_id=self.version.id,
            catalog_version_code=self.version.code,
            status=status,
            window_start=start,
            window_end=start + timedelta(hours=2),
            created_at=stamp,  # placed the day before: reports count orders by when they were placed
            address_enc=recipient.address_enc,
            latitude=recipient.latitude or 0.0,
            longitude=recipient.longitude or 0.0,
            placed_by_sub="seed",
            placed_by_role="institution_staff",
            requires_doctor=any(i.risk == "high" or i.needs_medical_order for i in items),
            service_group=ServiceGroup.chronic if status is not OrderStatus.submitted else None,
            assessed_at=stamp + timedelta(hours=1) if status is not OrderStatus.submitted else None,
            nurse_practitioner_id=nurse.id if nurse and status is not OrderStatus.cancelled else None,
            assigned_at=stamp + timedelta(hours=2) if nurse and status is not OrderStatus.cancelled else None,
            visit_fee_yuan=Decimal("50.00"),
            items_total_yuan=fees.items_total(prices),
            flag_reasons=[],
        )
        if done:
            assert nurse is not None
            order.en_route_at = start - timedelta(minutes=30)
            order.checked_in_at = start + timedelta(minutes=5)
            order.in_service_at = start + timedelta(minutes=10)
            order.checked_out_at = start + timedelta(minutes=70)
            order.completed_at = start + timedelta(minutes=75)
            order.response_minutes = Decimal(rng.randint(20, 90))
            order.consumables_total_yuan = Decimal("12.50")
            order.total_yuan = fees.total(order.items_total_yuan, order.visit_fee_yuan, Decimal("12.50"))
            order.fees_fixed_at = order.completed_at
            self.add(
                VisitRecord(
                    order_id=order.id,
                    record_id=demo_id("visit_record", key),
                    institution_id=place.id,
                    region_code=order.region_code,
                    practitioner_id=nurse.id,
                    client_created_at=order.completed_at,
                    client_updated_at=order.completed_at,
                    items_done=codes,
                    bp_systolic=rng.randint(115, 150),
                    bp_diastolic=rng.randint(65, 92),
                    pulse=rng.randint(60, 95),
                    temperature_c=Decimal("36.5"),
                    spo2=rng.randint(93, 99),
                    consumables=[{"name": "一次性换药包", "qty": 1, "unit_price_yuan": "12.50"}],
                    consumables_total_yuan=Decimal("12.50"),
                    notes="生命体征平稳，已完成健康宣教",
                    photo_sha256=[],
                )
            )
        if status is OrderStatus.cancelled:
            order.ended_at = stamp
            order.end_reason = "家属改期"
        if status is OrderStatus.rated and order.completed_at is not None:
            order.rated_at = order.completed_at + timedelta(hours=3)
            value = (
                score if score is not None else (5 if rng.random() < 0.8 else 4 if rng.random() < 0.8 else 3)
            )
            self.add(
                Rating(
                    order_id=order.id,
                    institution_id=place.id,
                    region_code=order.region_code,
                    score=value,
                    comment=rng.choice(COMMENTS) if value >= 4 else "上门时间比约定晚",
                    rated_by=RaterKind.family,
                    rater_sub="seed",
                    rated_at=order.rated_at,
                )
            )
        self.add(order)
        for code, item, price in zip(codes, items, prices, strict=True):
            self.add(
                OrderItem(
                    order_id=order.id,
                    institution_id=place.id,
                    region_code=order.region_code,
                    item_code=code,
                    item_name=item.name,
                    risk=item.risk,
                    needs_medical_order=item.needs_medical_order,
                    needs_specialist_training=item.needs_specialist_training,
                    required_title=item.required_title,
                    price_yuan=price,
                )
            )
        self.add(OrderEvent(order_id=order.id, action="submit", to_status="submitted", actor_sub="seed"))
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
    builder = _Builder(cipher, settings, version, catalog)
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
    nurses: dict[uuid.UUID, list[Person]] = defaultdict(list)
    doctors: dict[uuid.UUID, list[Person]] = defaultdict(list)
    for person in province.people:
        if person.eligible_nurse and person.name != "林晓燕":  # 林晓燕's diary is the named story's
            nurses[person.institution_id].append(person)
        if person.kind == "doctor":
            doctors[person.institution_id].append(person)

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
                last_round_date=min(closing, today) - timedelta(days=rng.randint(0, 6)),
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
    past_orders: list[Order] = []
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
    for n, order in enumerate(rng.sample(done, min(6, len(done)))):
        assert order.nurse_practitioner_id is not None
        assert order.checked_in_at is not None
        builder.add(
            SosAlert(
                order_id=order.id,
                institution_id=order.institution_id,
                region_code=order.region_code,
                practitioner_id=order.nurse_practitioner_id,
                client_event_id=demo_id("sos", f"province:{n}"),
                client_at=order.checked_in_at + timedelta(minutes=20),
                raised_at=order.checked_in_at + timedelta(minutes=20),
                latitude=order.latitude,
                longitude=order.longitude,
                message="服务对象家属情绪激动，请求协助",
                resolved_at=order.checked_in_at + timedelta(minutes=45),
                resolved_by_sub="seed",
                resolution="机构值班人员电话沟通后安抚，服务完成",
            )
        )
    for n, order in enumerate(rng.sample(done, min(12, len(done)))):
        resolved = n % 3 != 0
        builder.add(
            Complaint(
                order_id=order.id,
                institution_id=order.institution_id,
                region_code=order.region_code,
                status=ComplaintStatus.resolved if resolved else ComplaintStatus.open,
                content="护士上门比约定时间晚了四十分钟" if n % 2 else "耗材费用说明不清楚",
                filed_by_sub="seed",
                filed_by_role="recipient",
                resolution="已向家属致歉并调整排班" if resolved else None,
                resolved_at=order.completed_at + timedelta(days=2)
                if resolved and order.completed_at
                else None,
            )
        )
    # no relationships between the models: parents are flushed before the rows that point at them
    for first in ((Provider, ProviderItem, Recipient), (HomeBed,), (Order,)):
        session.add_all(o for o in builder.objects if isinstance(o, first))
        await session.flush()
    session.add_all(
        o for o in builder.objects if not isinstance(o, (Provider, ProviderItem, Recipient, HomeBed, Order))
    )
    await session.flush()
    return dict(builder.count)
