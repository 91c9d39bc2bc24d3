"""Demo data of the homecare service (idempotent; refuses production; never calls another service).

The catalog ``inferred-1``; provider settings for 厦门新开元医院 (湖里, also 家庭病床) and 厦门莲花医院
(思明); a few recipients in 湖里 and 思明; orders in several states, one assigned to 林晓燕 for today;
an open home bed. Institutions and practitioners are named by their demo ids (``demo_id``), with the
snapshots (names, regions) the registry's seed gives them.

Run: ``python -m demo.homecare``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id, refuse_in_production
from demo.homecare_province import province_seed
from demo.province import Province, read_province
from libs.common.changes import write_pending_changes
from libs.common.database import Database, session_scope
from libs.common.keys import personal_data_cipher
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare import models as _all_models  # noqa: F401  (every model and its feed declaration)
from services.homecare.catalog import importing
from services.homecare.catalog.models import CatalogItem, CatalogVersion
from services.homecare.home_beds.models import HomeBed, HomeBedStatus, Mobility
from services.homecare.orders import fees
from services.homecare.orders.models import (
    NurseBooking,
    Order,
    OrderEvent,
    OrderItem,
    OrderStatus,
    RaterKind,
    Rating,
    ServiceGroup,
)
from services.homecare.orders.visits.models import VisitRecord
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.recipients.models import ConsentMethod, ConsentSigner, Recipient
from services.homecare.settings import HomecareSettings
from services.registry.settings import RegistrySettings

#: the catalog the data migration ``homecare_0002`` loads too (production data: it stays with the service)
CATALOG_FILE = Path(__file__).parents[1] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"
INFERRED = "inferred-1"
SOURCE = (
    "nursing_catalog_inferred.csv — 39 项互联网+护理服务项目（推断版，非省级正式目录；"
    "正式目录发布后以新版本导入替换）"
)
XINKAIYUAN = ("厦门新开元医院", "350206", True)
LIANHUA = ("厦门莲花医院", "350203", False)
PRICES = {
    "HC01": "60.00",
    "HC02": "30.00",
    "HC05": "50.00",
    "HC06": "50.00",
    "HC07": "80.00",
    "HC09": "100.00",
    "HC16": "200.00",
    "HC17": "120.00",
    "HC18": "220.00",
    "HC22": "150.00",
    "HC38": "100.00",
}
RECIPIENTS: list[dict[str, Any]] = [
    {
        "name": "陈秀英",
        "id": "350206193808120024",
        "phone": "13906001001",
        "region": "350206",
        "address": "福建省厦门市湖里区江头街道台湾街 188 号 2 单元 601",
        "lat": 24.5068,
        "lng": 118.1503,
        "disability": 3,
        "dementia": False,
        "diseases": ["高血压", "脑梗死后遗症"],
        "provider": XINKAIYUAN,
        "contact": ("陈志强", "儿子", "13906001101"),
    },
    {
        "name": "黄国平",
        "id": "350206194403050031",
        "phone": "13906001002",
        "region": "350206",
        "address": "福建省厦门市湖里区殿前街道高殿路 66 号 801",
        "lat": 24.5258,
        "lng": 118.1187,
        "disability": 1,
        "dementia": False,
        "diseases": ["2型糖尿病"],
        "provider": XINKAIYUAN,
        "contact": ("黄丽华", "女儿", "13906001102"),
    },
    {
        "name": "林淑芬",
        "id": "350203194112200048",
        "phone": "13906001003",
        "region": "350203",
        "address": "福建省厦门市思明区莲前街道莲花五村 12 号 302",
        "lat": 24.4847,
        "lng": 118.1307,
        "disability": 2,
        "dementia": True,
        "diseases": ["阿尔茨海默病"],
        "provider": LIANHUA,
        "contact": ("林文斌", "儿子", "13906001103"),
    },
    {
        "name": "吴宏伟",
        "id": "350203193605150010",
        "phone": "13906001004",
        "region": "350203",
        "address": "福建省厦门市思明区嘉莲街道嘉禾路 300 号 1502",
        "lat": 24.4912,
        "lng": 118.1215,
        "disability": 4,
        "dementia": False,
        "diseases": ["慢性阻塞性肺病"],
        "provider": LIANHUA,
        "contact": ("吴婉清", "女儿", "13906001104"),
    },
]


async def _catalog(session: AsyncSession) -> CatalogVersion:
    version = await session.scalar(select(CatalogVersion).where(CatalogVersion.code == INFERRED))
    if version is not None:
        return version
    items = importing.parse(CATALOG_FILE.name, CATALOG_FILE.read_bytes())
    version = CatalogVersion(
        code=INFERRED, sequence=1, source=SOURCE, published_by="seed", item_count=len(items), note="演示数据"
    )
    session.add(version)
    await session.flush()
    session.add_all(CatalogItem(catalog_version_id=version.id, **item.model_dump()) for item in items)
    await session.flush()
    return version


async def _provider(session: AsyncSession, name: str, region: str, home_beds: bool) -> Provider:
    institution_id = demo_id("institution", name)
    provider = await session.scalar(select(Provider).where(Provider.institution_id == institution_id))
    if provider is None:
        provider = Provider(
            institution_id=institution_id,
            institution_name=name,
            region_code=region,
            visit_fee_yuan=Decimal("50.00"),
            home_bed_service=home_beds,
        )
        session.add(provider)
        session.add_all(
            ProviderItem(
                institution_id=institution_id, region_code=region, item_code=code, price_yuan=Decimal(price)
            )
            for code, price in PRICES.items()
        )
        await session.flush()
    return provider


async def _recipient(session: AsyncSession, cipher: PersonalDataCipher, data: dict[str, Any]) -> Recipient:
    recipient_id = demo_id("recipient", data["name"])
    existing = await session.get(Recipient, recipient_id)
    if existing is not None:
        return existing
    number: str = data["id"]
    contact_name, relation, contact_phone = data["contact"]
    recipient = Recipient(
        id=recipient_id,
        institution_id=demo_id("institution", data["provider"][0]),
        region_code=data["region"],
        name_enc=cipher.encrypt(data["name"]),
        id_number_enc=cipher.encrypt(number),
        id_number_hash=cipher.lookup_hash(number, "id_card"),
        phone_enc=cipher.encrypt(data["phone"]),
        address_enc=cipher.encrypt(data["address"]),
        latitude=data["lat"],
        longitude=data["lng"],
        birth_date=datetime.strptime(number[6:14], "%Y%m%d").date(),
        sex="female" if int(number[16]) % 2 == 0 else "male",
        disability_level=data["disability"],
        dementia=data["dementia"],
        chronic_diseases=data["diseases"],
        emergency_contact_name_enc=cipher.encrypt(contact_name),
        emergency_contact_relation=relation,
        emergency_contact_phone_enc=cipher.encrypt(contact_phone),
        consent_given_at=datetime(2026, 11, 1, 1, 0, tzinfo=UTC),
        consent_method=ConsentMethod.written,
        consent_signed_by=ConsentSigner.family,
        created_by_sub="seed",
    )
    session.add(recipient)
    await session.flush()
    return recipient


async def _order(
    session: AsyncSession,
    *,
    key: str,
    provider: Provider,
    recipient: Recipient,
    version: CatalogVersion,
    codes: list[str],
    status: OrderStatus,
    start: datetime,
    nurse: str | None = None,
    home_bed: HomeBed | None = None,
) -> Order | None:
    order_id = demo_id("order", key)
    if await session.get(Order, order_id) is not None:
        return None
    items = {
        i.code: i
        for i in await session.scalars(
            select(CatalogItem).where(
                CatalogItem.catalog_version_id == version.id, CatalogItem.code.in_(codes)
            )
        )
    }
    prices = [Decimal(PRICES[c]) for c in codes]
    nurse_id = demo_id("practitioner", nurse) if nurse else None
    reached = list(OrderStatus).index(status)
    stamp = start - timedelta(hours=1)

    def at(step: OrderStatus) -> datetime | None:
        order_of = list(OrderStatus)
        return (
            stamp + timedelta(minutes=10 * order_of.index(step)) if order_of.index(step) <= reached else None
        )

    order = Order(
        id=order_id,
        institution_id=provider.institution_id,
        provider_name=provider.institution_name,
        region_code=recipient.region_code,
        recipient_id=recipient.id,
        home_bed_id=home_bed.id if home_bed else None,
        catalog_version_id=version.id,
        catalog_version_code=version.code,
        status=status,
        window_start=start,
        window_end=start + timedelta(hours=2),
        address_enc=recipient.address_enc,
        latitude=recipient.latitude or 0.0,
        longitude=recipient.longitude or 0.0,
        placed_by_sub="seed",
        placed_by_role="institution_staff",
        requires_doctor=any(items[c].risk == "high" or items[c].needs_medical_order for c in codes),
        service_group=ServiceGroup.chronic if status is not OrderStatus.submitted else None,
        assessed_at=at(OrderStatus.assessed),
        nurse_practitioner_id=nurse_id if reached >= list(OrderStatus).index(OrderStatus.assigned) else None,
        assigned_at=at(OrderStatus.assigned),
        visit_fee_yuan=provider.visit_fee_yuan,
        items_total_yuan=fees.items_total(prices),
        flag_reasons=[],
    )
    if status in (OrderStatus.completed, OrderStatus.rated):
        order.en_route_at = at(OrderStatus.en_route)
        order.checked_in_at = at(OrderStatus.checked_in)
        order.in_service_at = at(OrderStatus.in_service)
        order.checked_out_at = at(OrderStatus.checked_out)
        order.completed_at = at(OrderStatus.completed)
        order.response_minutes = Decimal(30)
        order.consumables_total_yuan = Decimal("12.50")
        order.total_yuan = fees.total(order.items_total_yuan, order.visit_fee_yuan, Decimal("12.50"))
        order.fees_fixed_at = order.completed_at
    if status is OrderStatus.cancelled:
        order.ended_at = stamp
        order.end_reason = "家属改期"
    session.add(order)
    await session.flush()
    session.add_all(
        OrderItem(
            order_id=order.id,
            institution_id=order.institution_id,
            region_code=order.region_code,
            item_code=c,
            item_name=items[c].name,
            risk=items[c].risk,
            needs_medical_order=items[c].needs_medical_order,
            needs_specialist_training=items[c].needs_specialist_training,
            required_title=items[c].required_title,
            price_yuan=Decimal(PRICES[c]),
        )
        for c in codes
    )
    session.add(OrderEvent(order_id=order.id, action="submit", to_status="submitted", actor_sub="seed"))
    if nurse_id and status is OrderStatus.assigned:
        session.add(
            NurseBooking(order_id=order.id, practitioner_id=nurse_id, start_at=start, end_at=order.window_end)
        )
    if status in (OrderStatus.completed, OrderStatus.rated):
        assert nurse_id is not None
        assert order.completed_at is not None
        session.add(
            VisitRecord(
                order_id=order.id,
                record_id=demo_id("visit_record", key),
                institution_id=order.institution_id,
                region_code=order.region_code,
                practitioner_id=nurse_id,
                client_created_at=order.completed_at,
                client_updated_at=order.completed_at,
                items_done=codes,
                bp_systolic=136,
                bp_diastolic=84,
                pulse=74,
                temperature_c=Decimal("36.5"),
                spo2=97,
                consumables=[{"name": "一次性换药包", "qty": 1, "unit_price_yuan": "12.50"}],
                consumables_total_yuan=Decimal("12.50"),
                notes="生命体征平稳，已完成健康宣教",
                photo_sha256=[],
            )
        )
    if status is OrderStatus.rated:
        order.rated_at = order.completed_at
        session.add(
            Rating(
                order_id=order.id,
                institution_id=order.institution_id,
                region_code=order.region_code,
                score=5,
                comment="护士很耐心",
                rated_by=RaterKind.family,
                rater_sub="seed",
            )
        )
    await session.flush()
    return order


async def _home_bed(
    session: AsyncSession, provider: Provider, recipient: Recipient, settings: HomecareSettings
) -> HomeBed:
    bed_id = demo_id("home_bed", "陈秀英")
    bed = await session.get(HomeBed, bed_id)
    if bed is not None:
        return bed
    opened = clock.today() - timedelta(days=20)
    bed = HomeBed(
        id=bed_id,
        record_no="JTBC-DEMO-0001",
        institution_id=provider.institution_id,
        provider_name=provider.institution_name,
        region_code=recipient.region_code,
        recipient_id=recipient.id,
        status=HomeBedStatus.opened,
        diagnosis="脑梗死后遗症，长期卧床",
        condition_stable=True,
        mobility=Mobility.bedridden,
        conditions=["stroke_or_post_surgery_rehab", "tubes"],
        has_family_doctor_contract=True,
        applied_by_sub="seed",
        assessed_at=datetime.combine(opened, time(9), tzinfo=clock.CHINA_TZ),
        assessed_by_practitioner_id=demo_id("practitioner", "张建国"),
        assessment={"qualified": True, "gaps": [], "note": "符合建床条件"},
        opened_at=datetime.combine(opened, time(10), tzinfo=clock.CHINA_TZ),
        opened_date=opened,
        opened_by_practitioner_id=demo_id("practitioner", "张建国"),
        care_plan="每周查床一次；鼻饲管护理；压疮预防；康复训练指导",
        consent_at=datetime.combine(opened, time(10), tzinfo=clock.CHINA_TZ),
        round_interval_days=settings.home_bed_round_interval_days,
        period_end_date=opened + timedelta(days=settings.home_bed_period_days),
        last_round_date=opened + timedelta(days=14),
    )
    session.add(bed)
    await session.flush()
    return bed


async def _applied_home_bed(session: AsyncSession, provider: Provider, recipient: Recipient) -> None:
    """A home bed waiting for 张建国's assessment (厦门新开元医院's doctor has a bed to review)."""
    bed_id = demo_id("home_bed", "黄国平")
    if await session.get(HomeBed, bed_id) is not None:
        return
    session.add(
        HomeBed(
            id=bed_id,
            record_no="JTBC-DEMO-0002",
            institution_id=provider.institution_id,
            provider_name=provider.institution_name,
            region_code=recipient.region_code,
            recipient_id=recipient.id,
            status=HomeBedStatus.applied,
            diagnosis="2型糖尿病伴糖尿病足，行动不便",
            condition_stable=True,
            mobility=Mobility.frail,
            conditions=["skin_stoma_incontinence"],
            has_family_doctor_contract=True,
            application_note="家属线上申请，已上传出院小结",
            applied_by_sub="seed",
        )
    )
    await session.flush()


async def seed(settings: HomecareSettings, registry: RegistrySettings | None = None) -> None:
    """Seed the homecare demo; with ``registry`` (the registry's demo database) the whole province."""
    refuse_in_production(settings)
    province = await read_province(registry) if registry is not None else Province([], [])
    database = Database(settings)
    cipher = personal_data_cipher(settings)
    try:
        async with session_scope(database) as session:
            version = await _catalog(session)
            xinkaiyuan = await _provider(session, *XINKAIYUAN)
            lianhua = await _provider(session, *LIANHUA)
            people = {d["name"]: await _recipient(session, cipher, d) for d in RECIPIENTS}
            bed = await _home_bed(session, xinkaiyuan, people["陈秀英"], settings)
            await _applied_home_bed(session, xinkaiyuan, people["黄国平"])
            today = datetime.combine(clock.today(), time(15), tzinfo=clock.CHINA_TZ).astimezone(UTC)
            await _order(
                session,
                key="today-linxiaoyan",
                provider=xinkaiyuan,
                recipient=people["陈秀英"],
                codes=["HC01", "HC17"],
                status=OrderStatus.assigned,
                start=today,
                nurse="林晓燕",
                home_bed=bed,
                version=version,
            )
            await _order(
                session,
                key="submitted-huang",
                provider=xinkaiyuan,
                recipient=people["黄国平"],
                codes=["HC02"],
                status=OrderStatus.submitted,
                start=today + timedelta(days=1),
                version=version,
            )
            await _order(
                session,
                key="accepted-huang",
                provider=xinkaiyuan,
                recipient=people["黄国平"],
                codes=["HC01", "HC05"],
                status=OrderStatus.accepted,
                start=today + timedelta(days=2),
                version=version,
            )
            await _order(
                session,
                key="rated-chen",
                provider=xinkaiyuan,
                recipient=people["陈秀英"],
                codes=["HC01", "HC09"],
                status=OrderStatus.rated,
                start=today - timedelta(days=7),
                nurse="林晓燕",
                version=version,
            )
            await _order(
                session,
                key="completed-lin",
                provider=lianhua,
                recipient=people["林淑芬"],
                codes=["HC38"],
                status=OrderStatus.completed,
                start=today - timedelta(days=3),
                nurse="陈美玲",
                version=version,
            )
            await _order(
                session,
                key="cancelled-wu",
                provider=lianhua,
                recipient=people["吴宏伟"],
                codes=["HC07"],
                status=OrderStatus.cancelled,
                start=today + timedelta(days=1),
                version=version,
            )
            # work waiting for 厦门莲花医院: 陈美玲's visit today, an order to dispatch and one to assess
            for key, status, codes, hours, nurse in (
                ("today-chenmeiling", OrderStatus.assigned, ["HC01", "HC38"], 2, "陈美玲"),
                ("accepted-wu", OrderStatus.accepted, ["HC02"], 26, None),
                ("submitted-lin", OrderStatus.submitted, ["HC05"], 50, None),
            ):
                await _order(
                    session,
                    key=key,
                    provider=lianhua,
                    recipient=people["吴宏伟" if "wu" in key else "林淑芬"],
                    codes=codes,
                    status=status,
                    start=today + timedelta(hours=hours),
                    nurse=nurse,
                    version=version,
                )
            await write_pending_changes(session)
            if province.places:
                added = await province_seed(session, cipher, settings, version, province)
                await write_pending_changes(session)
                print("homecare province:", ", ".join(f"{k} +{v}" for k, v in added.items()))
    finally:
        await database.dispose()


if __name__ == "__main__":
    asyncio.run(seed(HomecareSettings(), RegistrySettings()))
