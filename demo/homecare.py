"""Demo data of the homecare service (idempotent; refuses production; never calls another service).

The catalog ``inferred-1``; provider settings for 厦门新开元医院 (湖里, also 家庭病床) and 厦门莲花医院
(思明); a few recipients in 湖里 and 思明; orders in several states, 林晓燕 and 陈美玲 each with a visit
today (15:00, or the next half hour when seeded later); an open home bed and one applied for.
Institutions and practitioners are named by their demo ids (``demo_id``), with the snapshots (names,
regions) the registry's seed gives them.

Recipients and orders go through the homecare service's own write paths (:mod:`demo.homecare_orders`):
the recipients' bulk path, the orders' historical import for the orders that are over (rated,
completed, cancelled), the orders' bulk path and the provider's transitions (assess, accept, assign) for
those under way; a record the rules refuse stops the seed (``SeedRejected``). The practitioners the
rules ask about come from the registry's demo (the named ones when it is absent). The catalog, the
providers and the home beds go through theirs (:mod:`demo.homecare_beds`: the catalog's publication, the
providers' bulk path, the home beds' historical import and ``POST /home-beds``'s application).

Run: ``python -m demo.homecare``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id, refuse_in_production
from demo.homecare_beds import (
    DemoRegistry,
    apply_home_bed,
    catalog_version,
    stored_providers,
    write_home_beds,
    write_providers,
)
from demo.homecare_orders import (
    ActiveOrder,
    DemoPractitioners,
    import_history,
    place_active,
    service_group,
    write_recipients,
)
from demo.homecare_province import province_seed
from demo.province import Province, read_province
from libs.common.changes import write_pending_changes
from libs.common.database import Database, session_scope
from libs.common.keys import personal_data_cipher
from services.homecare import clock
from services.homecare import models as _all_models  # noqa: F401  (every model and its feed declaration)
from services.homecare.clients.registry import InstitutionInfo, PractitionerInfo
from services.homecare.home_beds.models import HomeBed, HomeBedStatus, Mobility
from services.homecare.orders.models import (
    OrderStatus,
    ServiceGroup,
)
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.recipients.models import Recipient
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
        "id": "350206193808120025",
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
        "id": "350206194403050035",
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
        "id": "350203194112200049",
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
        "id": "350203193605150014",
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


def _demo_registry(province: Province) -> DemoRegistry:
    """The registry as the homecare rules ask it: the province's demo, or (a seed run on its own) the
    two named providers and 张建国, 厦门新开元医院's doctor."""
    named = [
        InstitutionInfo(
            id=demo_id("institution", name),
            name=name,
            kind="medical",
            region_code=region,
            internet_nursing_provider=True,
            home_bed_service=home_beds,
        )
        for name, region, home_beds in (XINKAIYUAN, LIANHUA)
    ]
    zhang = PractitionerInfo(
        id=demo_id("practitioner", "张建国"),
        institution_id=demo_id("institution", XINKAIYUAN[0]),
        kind="doctor",
        title="attending_physician",
    )
    return DemoRegistry(province, institutions=named, practitioners=[zhang])


async def _providers(
    session: AsyncSession, settings: HomecareSettings, registry: DemoRegistry
) -> dict[str, Provider]:
    """厦门新开元医院 and 厦门莲花医院's provider settings, through ``POST /providers/bulk``'s function."""
    providers = [
        Provider(
            institution_id=demo_id("institution", name),
            institution_name=name,
            region_code=region,
            visit_fee_yuan=Decimal("50.00"),
            home_bed_service=home_beds,
        )
        for name, region, home_beds in (XINKAIYUAN, LIANHUA)
    ]
    items = [
        ProviderItem(
            institution_id=p.institution_id,
            region_code=p.region_code,
            item_code=code,
            price_yuan=Decimal(price),
        )
        for p in providers
        for code, price in PRICES.items()
    ]
    stored = await stored_providers(session, [p.institution_id for p in providers])
    await write_providers(
        session, settings, registry, [p for p in providers if p.institution_id not in stored], items
    )
    stored = await stored_providers(session, [p.institution_id for p in providers])
    return {p.institution_name: stored[p.institution_id] for p in providers}


def _recipient_record(provider: Provider, data: dict[str, Any]) -> dict[str, Any]:
    """The body of ``POST /recipients`` for a named recipient, keyed by its demo id."""
    contact_name, relation, contact_phone = data["contact"]
    return {
        "external_id": str(demo_id("recipient", data["name"])),
        "institution_id": str(provider.institution_id),
        "name": data["name"],
        "id_number": data["id"],
        "phone": data["phone"],
        "address": data["address"],
        "region_code": data["region"],
        "latitude": data["lat"],
        "longitude": data["lng"],
        "disability_level": data["disability"],
        "dementia": data["dementia"],
        "chronic_diseases": data["diseases"],
        "emergency_contact": {"name": contact_name, "relation": relation, "phone": contact_phone},
        "consent": {
            "given_at": datetime(2026, 11, 1, 1, 0, tzinfo=UTC).isoformat(),
            "method": "written",
            "signed_by": "family",
        },
    }


@dataclass(frozen=True, slots=True)
class NamedOrder:
    key: str
    provider: Provider
    recipient: dict[str, Any]
    codes: list[str]
    status: OrderStatus
    start: datetime
    nurse: str | None = None
    home_bed: HomeBed | None = None


def _order_record(order: NamedOrder) -> dict[str, Any]:
    """The body of ``POST /orders`` for a named order, keyed by its demo id."""
    record: dict[str, Any] = {
        "external_id": str(demo_id("order", order.key)),
        "institution_id": str(order.provider.institution_id),
        "recipient_id": str(demo_id("recipient", order.recipient["name"])),
        "item_codes": order.codes,
        "window_start": order.start.isoformat(),
        "window_end": (order.start + timedelta(hours=2)).isoformat(),
    }
    if order.home_bed is not None:
        record["home_bed_id"] = str(order.home_bed.id)
    return record


def _past_record(order: NamedOrder, *, now: datetime) -> dict[str, Any]:
    """A named order that is over, as the historical import takes it: done by its nurse (with the visit
    record, rated by the family when ``rated``), or cancelled by the family before it was dispatched."""
    record = _order_record(order)
    group = service_group({"chronic_diseases": order.recipient["diseases"]}, order.start)
    if order.status is OrderStatus.cancelled:
        submitted = now - timedelta(hours=3)
        record.update(
            status="cancelled",
            service_group=group.value,
            timeline={
                "submitted_at": submitted.isoformat(),
                "assessed_at": (submitted + timedelta(minutes=10)).isoformat(),
                "accepted_at": (submitted + timedelta(minutes=20)).isoformat(),
                "cancelled_at": (submitted + timedelta(hours=1)).isoformat(),
            },
            cancel_reason="家属改期",
        )
        return record
    assert order.nurse is not None
    stamp = order.start - timedelta(hours=1)
    steps = ("submitted_at", "assessed_at", "accepted_at", "assigned_at", "departed_at", "checked_in_at")
    timeline = {name: (stamp + timedelta(minutes=13 * k)).isoformat() for k, name in enumerate(steps)}
    completed = order.start + timedelta(minutes=75)
    timeline.update(
        started_at=(order.start + timedelta(minutes=10)).isoformat(),
        checked_out_at=(order.start + timedelta(minutes=70)).isoformat(),
        completed_at=completed.isoformat(),
    )
    record.update(
        status=order.status.value,
        service_group=group.value,
        nurse_practitioner_id=str(demo_id("practitioner", order.nurse)),
        timeline=timeline,
        visit_record={
            "record_id": str(demo_id("visit_record", order.key)),
            "recorded_at": completed.isoformat(),
            "items_done": order.codes,
            "vital_signs": {
                "bp_systolic": 136,
                "bp_diastolic": 84,
                "pulse": 74,
                "temperature_c": "36.5",
                "spo2": 97,
            },
            "consumables": [{"name": "一次性换药包", "qty": 1, "unit_price_yuan": "12.50"}],
            "notes": "生命体征平稳，已完成健康宣教",
        },
    )
    if order.status is OrderStatus.rated:
        record["rating"] = {
            "score": 5,
            "comment": "护士很耐心",
            "rated_by": "family",
            "rated_at": (completed + timedelta(hours=1)).isoformat(),
        }
    return record


def _today_start(now: datetime) -> datetime:
    """The named story's visits today: 15:00 (Asia/Shanghai), or the next half hour at least 30 minutes
    ahead when the seed runs later (an order is placed for a window still to come)."""
    base = datetime.combine(clock.today(), time(15), tzinfo=clock.CHINA_TZ)
    soonest = now.astimezone(clock.CHINA_TZ) + timedelta(minutes=30)
    if base >= soonest:
        return base.astimezone(UTC)
    rounded = soonest.replace(minute=0, second=0, microsecond=0) + timedelta(
        minutes=30 if soonest.minute < 30 else 60
    )
    return rounded.astimezone(UTC)


async def _home_bed(
    session: AsyncSession,
    provider: Provider,
    recipient: Recipient,
    settings: HomecareSettings,
    registry: DemoRegistry,
) -> HomeBed:
    """陈秀英's bed, opened 20 days ago by 张建国, through ``POST /home-beds/bulk``'s function."""
    bed_id = demo_id("home_bed", "陈秀英")
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
        assessed_at=datetime.combine(opened, time(9), tzinfo=clock.CHINA_TZ),
        assessed_by_practitioner_id=demo_id("practitioner", "张建国"),
        assessment={"qualified": True, "gaps": [], "note": "符合建床条件"},
        opened_at=datetime.combine(opened, time(10), tzinfo=clock.CHINA_TZ),
        opened_date=opened,
        opened_by_practitioner_id=demo_id("practitioner", "张建国"),
        care_plan="每周查床一次；鼻饲管护理；压疮预防；康复训练指导",
        consent_at=datetime.combine(opened, time(10), tzinfo=clock.CHINA_TZ),
        round_interval_days=settings.home_bed_round_interval_days,
        last_round_date=opened + timedelta(days=14),
    )
    await write_home_beds(session, settings, registry, [bed])
    stored = await session.get(HomeBed, bed_id)
    assert stored is not None
    return stored


async def _applied_home_bed(
    session: AsyncSession, provider: Provider, recipient: Recipient, settings: HomecareSettings
) -> None:
    """A home bed waiting for 张建国's assessment (厦门新开元医院's doctor has a bed to review), applied
    for through ``POST /home-beds``'s function as the provider's administrator."""
    bed = HomeBed(
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
    )
    await apply_home_bed(session, settings, bed)


async def seed(settings: HomecareSettings, registry: RegistrySettings | None = None) -> None:
    """Seed the homecare demo; with ``registry`` (the registry's demo database) the whole province."""
    refuse_in_production(settings)
    province = await read_province(registry) if registry is not None else Province([], [])
    database = Database(settings)
    cipher = personal_data_cipher(settings)
    try:
        async with session_scope(database) as session:
            version = await catalog_version(
                session,
                code=INFERRED,
                source=SOURCE,
                filename=CATALOG_FILE.name,
                content=CATALOG_FILE.read_bytes(),
            )
            registry_answers = _demo_registry(province)
            providers = await _providers(session, settings, registry_answers)
            xinkaiyuan, lianhua = providers[XINKAIYUAN[0]], providers[LIANHUA[0]]
            await write_recipients(
                session, cipher, [_recipient_record(providers[d["provider"][0]], d) for d in RECIPIENTS]
            )
            people = {d["name"]: d for d in RECIPIENTS}
            chen = await session.get(Recipient, demo_id("recipient", "陈秀英"))
            huang = await session.get(Recipient, demo_id("recipient", "黄国平"))
            assert chen is not None
            assert huang is not None
            bed = await _home_bed(session, xinkaiyuan, chen, settings, registry_answers)
            await _applied_home_bed(session, xinkaiyuan, huang, settings)
            now = clock.now()
            today = _today_start(now)
            xky, lh = xinkaiyuan, lianhua
            past = [
                NamedOrder(
                    "rated-chen",
                    xky,
                    people["陈秀英"],
                    ["HC01", "HC09"],
                    OrderStatus.rated,
                    today - timedelta(days=7),
                    nurse="林晓燕",
                ),
                NamedOrder(
                    "completed-lin",
                    lh,
                    people["林淑芬"],
                    ["HC38"],
                    OrderStatus.completed,
                    today - timedelta(days=3),
                    nurse="陈美玲",
                ),
                NamedOrder(
                    "cancelled-wu",
                    lh,
                    people["吴宏伟"],
                    ["HC07"],
                    OrderStatus.cancelled,
                    today + timedelta(days=1),
                ),
            ]
            practitioners = DemoPractitioners(province)
            await import_history(
                session, cipher, settings, practitioners, [_past_record(o, now=now) for o in past]
            )
            zhang = demo_id("practitioner", "张建国")
            under_way = [
                # 林晓燕's visit today to 陈秀英's home bed; 厦门新开元医院's orders to assess and dispatch
                (
                    NamedOrder(
                        "today-linxiaoyan",
                        xky,
                        people["陈秀英"],
                        ["HC01", "HC17"],
                        OrderStatus.assigned,
                        today,
                        nurse="林晓燕",
                        home_bed=bed,
                    ),
                    None,
                ),
                (
                    NamedOrder(
                        "submitted-huang",
                        xky,
                        people["黄国平"],
                        ["HC02"],
                        OrderStatus.submitted,
                        today + timedelta(days=1),
                    ),
                    None,
                ),
                (
                    NamedOrder(
                        "accepted-huang",
                        xky,
                        people["黄国平"],
                        ["HC01", "HC05"],
                        OrderStatus.accepted,
                        today + timedelta(days=2),
                    ),
                    zhang,
                ),
                # work waiting for 厦门莲花医院: 陈美玲's visit today, an order to dispatch and one to assess
                (
                    NamedOrder(
                        "today-chenmeiling",
                        lh,
                        people["林淑芬"],
                        ["HC01", "HC38"],
                        OrderStatus.assigned,
                        today + timedelta(hours=2),
                        nurse="陈美玲",
                    ),
                    None,
                ),
                (
                    NamedOrder(
                        "accepted-wu",
                        lh,
                        people["吴宏伟"],
                        ["HC02"],
                        OrderStatus.accepted,
                        today + timedelta(hours=26),
                    ),
                    None,
                ),
                (
                    NamedOrder(
                        "submitted-lin",
                        lh,
                        people["林淑芬"],
                        ["HC05"],
                        OrderStatus.submitted,
                        today + timedelta(hours=50),
                    ),
                    None,
                ),
            ]
            await place_active(
                session,
                cipher,
                settings,
                practitioners,
                [
                    ActiveOrder(
                        _order_record(o),
                        o.status.value,
                        ServiceGroup.chronic,
                        nurse=demo_id("practitioner", o.nurse) if o.nurse else None,
                        doctor=doctor,
                    )
                    for o, doctor in under_way
                ],
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
