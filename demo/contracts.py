"""Demo data of the contracts service: the province's 医养签约 agreements, 巡诊 visits and referrals.

Two parts, both deterministic (a fixed random seed; dates relative to today, Asia/Shanghai):

- **The briefing's story** among the named institutions (ids from ``demo_id("institution", name)``): an
  agreement in force 厦门新开元医院–兰馨颐养院 with weekly 巡诊 and two referrals (李秀英 up, now
  admitted; 黄国平 — a homecare recipient of 新开元 in :mod:`demo.homecare` — down and back home), one
  about to expire, a draft
  (no 备案: a draft carries no ``filed_by``), an expired one, and work waiting for every institution
  account: an agreement submitted by the other party for each of 兰馨颐养院, 厦门新开元医院, 厦门莲花医院,
  厦门弘爱养护院 and 福州市社会福利院 to countersign.
- **The province** (when the registry's demo database is given, see :mod:`demo.province`): about 2,574
  distinct (medical, elderly-care) pairs with an agreement in force today (indicators.md 签约对数, source
  000), spread over the counties as the 养老机构 proper are (not 农村幸福院 or day-care centres), each
  home with the medical institutions of its county nearest to it, about one in ten with one of a
  neighbouring county; some about to expire (a few with their renewal submitted), predecessors expired
  and renewed, some terminated or expired for good, drafts and submitted ones waiting; signed ones 备案
  with the county except a few still waiting for it. 巡诊 visits over the last two years at each
  agreement's frequency (most complete, about a quarter short), referrals up and down over two years.

Every record goes through the contracts service's own write path, its historical import (issue 14), in
process, as a province administrator with source system ``demo``, keyed by its demo id:

- the agreements — drafts, submitted ones, signed and terminated ones, each with its history (who
  submitted it and when, countersignature, activation, expiry or termination, the agreement it renews,
  the county's 备案) — through :func:`write_agreements` (``services.contracts.agreements.bulk.upsert``,
  the code of ``POST /agreements/bulk``: the parties' kinds and activity, answered from the registry's
  demo database by :class:`DemoRegistry`; the writer's scope; one agreement pending or in force per pair;
  renewals; 备案 only of a signed agreement; the dates' order);
- the 巡诊 visits through ``services.contracts.visits.bulk.import_`` (``POST /visits/bulk``: within the
  agreement's term, not in the future, agreed services);
- the referrals through ``services.contracts.referrals.bulk.import_`` (``POST /referrals/bulk``: an
  agreement with referrals in force on the day, the lifecycle's moments in order and none in the future —
  a request of today is placed before the seed's "now", a return still to come is dated now — one open
  referral per resident). Without the residents' person index (seeded before the residents service is up)
  each resident is kept as an encrypted copy, unlinked; ``make run`` links them once the stack answers
  (``python -m services.contracts.referrals.person_link``: the copies go, the same elder in homecare and
  in a referral is one person).

Each writes its audit records and change-feed entries as the single writes do. A refused record stops the
seed naming it and the rule's code (:class:`SeedRejected`). Idempotent: a database that holds the demo
already gets nothing more (a later day's records would not fit those written on the first), and what is
held under its key is never sent again; refuses production.

    python -m demo.contracts
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from demo import SeedRejected, demo_id, refuse_in_production
from demo.province import Place, Province, apportion, distance_km, read_province
from libs.common import changes
from libs.common.auth import Principal, Role
from libs.common.bulk import DEFAULT_MAX_RECORDS, BulkOutcome, BulkResponse
from libs.common.database import Database, session_scope
from libs.common.divisions import PROVINCE_CODE, RegionScope
from libs.common.identifiers import id_number_check_char
from libs.common.keys import personal_data_cipher
from libs.common.personal_data import PersonalDataCipher
from services.contracts import models as _all_models  # noqa: F401  (every model and its feed declaration)
from services.contracts.agreements import bulk as agreements_bulk
from services.contracts.agreements.lifecycle import signed_state_for
from services.contracts.agreements.models import (
    REFERRAL_SERVICES,
    Agreement,
    AgreementState,
    FeePayer,
    ServiceKind,
    VisitPeriod,
)
from services.contracts.agreements.schemas import AgreementBulk
from services.contracts.clients.registry import RegistryClient, RegistryInstitution
from services.contracts.clock import CHINA_TZ, Clock
from services.contracts.referrals import bulk as referrals_bulk
from services.contracts.referrals.models import Referral, ReferralDirection, ReferralState, Urgency
from services.contracts.referrals.schemas import ReferralBulk
from services.contracts.settings import ContractsSettings
from services.contracts.visits import bulk as visits_bulk
from services.contracts.visits.models import Visit
from services.contracts.visits.schemas import VisitBulk
from services.registry.settings import RegistrySettings

#: who writes the demo records: a province administrator, source system ``demo`` (like a city platform)
SEEDER = Principal(sub="demo-seed", role=Role.province_admin, region_code=PROVINCE_CODE)
SOURCE_SYSTEM = "demo"
MEDICAL_PHONE = "13800000001"
ELDERLY_PHONE = "13900000002"
#: 签约对数 of the province (indicators.md, source 000): distinct pairs with an agreement in force
SIGNED_PAIRS_TARGET = 2574
A = AgreementState
S = ServiceKind


@dataclass(frozen=True)
class Party:
    name: str
    region_code: str
    kind: str
    id_override: uuid.UUID | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.id_override or demo_id("institution", self.name)


def party(place: Place) -> Party:
    return Party(place.name, place.region_code, place.kind, place.id)


XINKAIYUAN = Party("厦门新开元医院", "350206", "medical")
LIANHUA = Party("厦门莲花医院", "350203", "medical")
LANXIN = Party("兰馨颐养院", "350206", "elderly_care")
HONGAI = Party("厦门弘爱养护院", "350206", "integrated")
LIANHUA_CARE = Party("厦门市莲花爱心护理院", "350203", "integrated")
FUZHOU_WELFARE = Party("福州市社会福利院", "350104", "elderly_care")
NAMED = frozenset(p.name for p in (XINKAIYUAN, LIANHUA, LANXIN, HONGAI, LIANHUA_CARE, FUZHOU_WELFARE))


@dataclass(frozen=True)
class DemoAgreement:
    medical: Party
    elderly: Party
    start: date
    end: date
    services: tuple[ServiceKind, ...]
    visits_per_period: int
    state: AgreementState | None = None  # None: signed, state from the dates
    period: VisitPeriod = VisitPeriod.week
    key: str = ""
    submitted_by: Party | None = None  # for a submitted one: the party that submitted it
    renews: uuid.UUID | None = None
    terminated_on: date | None = None
    filed: bool = True
    compliance: float = 1.0

    @property
    def id(self) -> uuid.UUID:
        key = self.key or self.start.isoformat()[:4]
        if (
            self.medical.id_override or self.elderly.id_override
        ):  # generated: names may repeat in the province
            return demo_id("agreement", f"{self.medical.id}-{self.elderly.id}-{key}")
        return demo_id("agreement", f"{self.medical.name}-{self.elderly.name}-{key}")

    @property
    def pair(self) -> tuple[uuid.UUID, uuid.UUID]:
        return (self.medical.id, self.elderly.id)


def demo_agreements(today: date) -> list[DemoAgreement]:
    """The briefing's story among the named institutions."""
    expiring = DemoAgreement(
        LIANHUA,
        LIANHUA_CARE,
        today - timedelta(days=345),
        today + timedelta(days=20),
        (S.medical_rounds, S.two_way_referral, S.rehabilitation, S.tcm),
        1,
    )
    return [
        DemoAgreement(
            XINKAIYUAN,
            LANXIN,
            today - timedelta(days=150),
            today + timedelta(days=215),
            (
                S.medical_rounds,
                S.health_management,
                S.two_way_referral,
                S.emergency_green_channel,
                S.medical_nursing,
            ),
            1,
        ),
        expiring,
        DemoAgreement(
            XINKAIYUAN,
            HONGAI,
            today + timedelta(days=30),
            today + timedelta(days=394),
            (S.medical_rounds, S.emergency_green_channel, S.training),
            2,
            A.draft,
        ),
        DemoAgreement(
            LIANHUA,
            LANXIN,
            today - timedelta(days=400),
            today - timedelta(days=35),
            (S.medical_rounds, S.appointment),
            1,
        ),
        # work waiting: each institution account has an agreement the other party submitted
        DemoAgreement(  # 兰馨颐养院 countersigns: 莲花医院 submitted a new one, the old one expired
            LIANHUA,
            LANXIN,
            today + timedelta(days=10),
            today + timedelta(days=375),
            (S.medical_rounds, S.appointment, S.tcm),
            2,
            A.submitted,
            VisitPeriod.month,
            key="resign",
            submitted_by=LIANHUA,
        ),
        DemoAgreement(  # 厦门莲花医院 countersigns the renewal 莲花爱心护理院 submitted
            LIANHUA,
            LIANHUA_CARE,
            expiring.end + timedelta(days=1),
            expiring.end + timedelta(days=366),
            (S.medical_rounds, S.two_way_referral, S.rehabilitation, S.tcm, S.hospice),
            1,
            A.submitted,
            key="renewal",
            submitted_by=LIANHUA_CARE,
            renews=expiring.id,
        ),
        DemoAgreement(  # 厦门弘爱养护院 countersigns (a cross-county partner: 思明 hospital, 湖里 home)
            LIANHUA,
            HONGAI,
            today + timedelta(days=15),
            today + timedelta(days=745),
            (S.medical_rounds, S.two_way_referral, S.emergency_green_channel, S.mental_health),
            2,
            A.submitted,
            VisitPeriod.month,
            submitted_by=LIANHUA,
        ),
    ]


def _named_with_province(province: Province, today: date) -> list[DemoAgreement]:
    """The named accounts' agreements that need institutions of the generated province."""
    places = [p for p in province.places if p.name not in NAMED]
    specs: list[DemoAgreement] = []
    huli_homes = sorted((p for p in places if p.is_home and p.region_code == "350206"), key=lambda p: p.name)
    if huli_homes:  # 厦门新开元医院 countersigns what a 湖里 home submitted
        home = party(huli_homes[0])
        specs.append(
            DemoAgreement(
                XINKAIYUAN,
                home,
                today + timedelta(days=7),
                today + timedelta(days=737),
                (S.medical_rounds, S.health_management, S.two_way_referral, S.emergency_green_channel),
                1,
                A.submitted,
                VisitPeriod.month,
                submitted_by=home,
            )
        )
    welfare = Place(
        FUZHOU_WELFARE.id,
        FUZHOU_WELFARE.name,
        "elderly_care",
        "elderly_care_home",
        "350104",
        None,
        None,
        26.0297,
        119.3008,
        None,
        800,
        False,
        False,
        False,
    )
    fuzhou_medical = sorted(
        (p for p in places if p.is_medical and p.region_code[:4] == "3501"),
        key=lambda p: (distance_km(welfare, p), p.name),
    )
    for n, medical in enumerate(fuzhou_medical[:3]):
        if n < 2:  # in force: 福州市社会福利院 with its two nearest hospitals
            specs.append(
                DemoAgreement(
                    party(medical),
                    FUZHOU_WELFARE,
                    today - timedelta(days=200 + 150 * n),
                    today + timedelta(days=530 - 150 * n),
                    (
                        S.medical_rounds,
                        S.health_management,
                        S.emergency_green_channel,
                        S.two_way_referral,
                        S.hospice,
                        S.training,
                    ),
                    1,
                    period=VisitPeriod.week if n == 0 else VisitPeriod.month,
                )
            )
        else:  # 福州市社会福利院 countersigns what the third submitted
            specs.append(
                DemoAgreement(
                    party(medical),
                    FUZHOU_WELFARE,
                    today + timedelta(days=20),
                    today + timedelta(days=750),
                    (S.medical_rounds, S.rehabilitation, S.tcm),
                    2,
                    A.submitted,
                    VisitPeriod.month,
                    submitted_by=party(medical),
                )
            )
    return specs


SERVICE_BASE = (S.medical_rounds, S.health_management)
SERVICE_EXTRA = (
    S.appointment,
    S.emergency_green_channel,
    S.two_way_referral,
    S.rehabilitation,
    S.medical_nursing,
    S.tcm,
    S.mental_health,
    S.hospice,
    S.pharmacy_guidance,
    S.training,
    S.telemedicine,
)


def _services(rng: random.Random) -> tuple[ServiceKind, ...]:
    extra = [s for s in SERVICE_EXTRA if rng.random() < 0.45]
    if rng.random() < 0.85:  # most agreements cover the green channel and referrals
        extra += [s for s in (S.emergency_green_channel, S.two_way_referral) if s not in extra]
    return SERVICE_BASE + tuple(sorted(extra, key=list(ServiceKind).index))


def _frequency(rng: random.Random) -> tuple[int, VisitPeriod]:
    draw = rng.random()
    if draw < 0.7:
        return 1, VisitPeriod.month
    if draw < 0.93:
        return 2, VisitPeriod.month
    return 1, VisitPeriod.week


def province_agreements(province: Province, today: date, target: int) -> list[DemoAgreement]:
    """About ``target`` pairs in force among the registry's homes and medical institutions, with their
    history and the agreements not (or not yet) in force."""
    rng = random.Random(350002)
    places = [p for p in province.places if p.name not in NAMED]
    homes = [p for p in places if p.is_home]
    medical_by_county: dict[str, list[Place]] = defaultdict(list)
    for p in places:
        if p.is_medical:
            medical_by_county[p.region_code].append(p)
    if not homes or not medical_by_county:
        return []
    same: dict[uuid.UUID, list[Place]] = {}
    near: dict[uuid.UUID, list[Place]] = {}
    for home in homes:
        same[home.id] = sorted(
            medical_by_county.get(home.region_code, []), key=lambda m: (distance_km(home, m), m.name)
        )
        others = [
            m
            for code, ms in medical_by_county.items()
            if code != home.region_code and code[:4] == home.region_code[:4]
            for m in ms
            if m.category == "hospital"
        ]
        near[home.id] = sorted(others, key=lambda m: (distance_km(home, m), m.name))[:2]
    weights = [1.0 + h.beds_elderly_care / 120 for h in homes]
    caps = [len(same[h.id]) + min(1, len(near[h.id])) for h in homes]
    quotas = apportion(target, weights, caps)

    specs: list[DemoAgreement] = []
    term_choices = (365, 730, 1095, 1095, 1826)
    for home, quota in zip(homes, quotas, strict=True):
        elderly = party(home)
        partners = same[home.id][:quota]
        spare = same[home.id][quota:]
        if near[home.id] and (len(partners) < quota or (quota >= 2 and rng.random() < 0.2)):
            if len(partners) >= quota:
                spare.insert(0, partners.pop())
            partners.append(near[home.id][0])  # a cross-county partner (a hospital of the city)
        for medical in partners:
            services = _services(rng)
            count, period = _frequency(rng)
            term = rng.choice(term_choices)
            if rng.random() < 0.06:  # expiring within 30 days
                end = today + timedelta(days=rng.randint(1, 30))
            else:
                end = today + timedelta(days=rng.randint(31, term - 1))
            start = end - timedelta(days=term)
            compliance = 1.0 if rng.random() < 0.75 else rng.uniform(0.45, 0.85)
            predecessor: DemoAgreement | None = None
            if start > today - timedelta(days=730) and rng.random() < 0.6:
                prev_term = rng.choice(term_choices[:3])
                predecessor = DemoAgreement(
                    party(medical),
                    elderly,
                    start - timedelta(days=prev_term),
                    start - timedelta(days=1),
                    services,
                    count,
                    A.expired,
                    period,
                    key="prev",
                    compliance=compliance,
                )
                specs.append(predecessor)
            current = DemoAgreement(
                party(medical),
                elderly,
                start,
                end,
                services,
                count,
                None,
                period,
                key="current",
                renews=predecessor.id if predecessor else None,
                filed=rng.random() > 0.06,
                compliance=compliance,
            )
            specs.append(current)
            if end <= today + timedelta(days=30) and rng.random() < 0.4:  # its renewal, submitted
                submitter = rng.choice((party(medical), elderly))
                specs.append(
                    DemoAgreement(
                        party(medical),
                        elderly,
                        end + timedelta(days=1),
                        end + timedelta(days=term),
                        services,
                        count,
                        A.submitted,
                        period,
                        key="renewal",
                        submitted_by=submitter,
                        renews=current.id,
                    )
                )
        # pairs not in force: ended for good, or being negotiated
        for medical in spare[:2]:
            draw = rng.random()
            services = _services(rng)
            count, period = _frequency(rng)
            if draw < 0.05:
                start = today - timedelta(days=rng.randint(200, 900))
                end = start + timedelta(days=1095)
                specs.append(
                    DemoAgreement(
                        party(medical),
                        elderly,
                        start,
                        end,
                        services,
                        count,
                        A.terminated,
                        period,
                        key="terminated",
                        terminated_on=min(
                            today - timedelta(days=5), start + timedelta(days=rng.randint(90, 600))
                        ),
                        compliance=rng.uniform(0.3, 0.7),
                    )
                )
            elif draw < 0.11:
                end = today - timedelta(days=rng.randint(10, 600))
                specs.append(
                    DemoAgreement(
                        party(medical),
                        elderly,
                        end - timedelta(days=730),
                        end,
                        services,
                        count,
                        A.expired,
                        period,
                        key="ended",
                        compliance=rng.uniform(0.5, 1.0),
                    )
                )
            elif draw < 0.14:
                start = today + timedelta(days=rng.randint(5, 60))
                specs.append(
                    DemoAgreement(
                        party(medical),
                        elderly,
                        start,
                        start + timedelta(days=1095),
                        services,
                        count,
                        A.draft,
                        period,
                        key="draft",
                    )
                )
            elif draw < 0.17:
                start = today + timedelta(days=rng.randint(5, 60))
                specs.append(
                    DemoAgreement(
                        party(medical),
                        elderly,
                        start,
                        start + timedelta(days=1095),
                        services,
                        count,
                        A.submitted,
                        period,
                        key="submitted",
                        submitted_by=rng.choice((party(medical), elderly)),
                    )
                )
            elif draw < 0.19:
                start = today + timedelta(days=rng.randint(5, 45))
                specs.append(
                    DemoAgreement(
                        party(medical),
                        elderly,
                        start,
                        start + timedelta(days=1095),
                        services,
                        count,
                        A.countersigned,
                        period,
                        key="countersigned",
                    )
                )
    return specs


def _county_filer(region_code: str) -> str:
    return {"350206": "huli_admin", "350203": "siming_admin"}.get(region_code, f"demo_admin_{region_code}")


def _agreement_record(spec: DemoAgreement, *, today: date, now: datetime) -> dict[str, Any]:
    """The agreement as ``POST /agreements/bulk`` takes it (``AgreementRecord``), keyed by its demo id,
    with its history: who submitted it and when, its countersignature, activation, expiry or
    termination, the agreement it renews, and its 备案 with the county (only a signed agreement is filed,
    never a draft or one not yet countersigned)."""
    state = spec.state or signed_state_for(spec.start, spec.end, today)
    signed = state not in (A.draft, A.submitted)
    submitted = state is not A.draft
    ended_at = datetime.combine(spec.terminated_on or spec.end, time(9), CHINA_TZ)
    signed_at = datetime.combine(min(spec.start, today) - timedelta(days=14), time(10), CHINA_TZ)
    submitted_at = signed_at - timedelta(days=3) if signed else now - timedelta(days=2)
    submitter = spec.submitted_by or spec.elderly
    status = {A.draft: "draft", A.submitted: "submitted", A.terminated: "terminated"}.get(state, "signed")
    record: dict[str, Any] = {
        "external_id": str(spec.id),
        "status": status,
        "medical_institution_id": spec.medical.id,
        "elderly_institution_id": spec.elderly.id,
        "services": [s.value for s in spec.services],
        "visit_count": spec.visits_per_period,
        "visit_period": spec.period.value,
        "visit_staff": "全科医师 1 名、护士 1 名，每次巡诊半天",
        "green_channel_terms": "乙方老人突发急症时，甲方急诊科优先接诊，15 分钟内响应。"
        if S.emergency_green_channel in spec.services
        else None,
        "referral_terms": "双向转诊经绿色通道办理，转出方提供病情摘要，接收方 30 分钟内答复。"
        if S.two_way_referral in spec.services
        else None,
        "fee_payer": FeePayer.elderly_care_party.value,
        "fee_amount_yuan": Decimal("12000.00"),
        "fee_terms": "巡诊服务费按年结算；诊疗费用按医保规定结算。",
        "medical_duties": "按约定频次巡诊，建立健康档案，开展健康管理和专业培训。",
        "elderly_duties": "提供巡诊场地，配合做好老人健康信息登记和转诊交接。",
        "start_date": spec.start,
        "end_date": spec.end,
        "medical_contact": {"name": "医务科", "phone": MEDICAL_PHONE},
        "elderly_contact": {"name": "院长办公室", "phone": ELDERLY_PHONE},
        "submitted_by_institution_id": submitter.id if submitted else None,
        "submitted_at": submitted_at if submitted else None,
        "countersigned_at": signed_at if signed else None,
        "activated_at": datetime.combine(spec.start, time(0), CHINA_TZ)
        if state in (A.active, A.expired, A.terminated) and spec.start <= today
        else None,
        "expired_at": ended_at + timedelta(days=1) if state is A.expired else None,
        "renews_external_id": str(spec.renews) if spec.renews else None,
        "filed_at": signed_at + timedelta(days=5) if signed and spec.filed else None,
        "filed_by": _county_filer(spec.elderly.region_code) if signed and spec.filed else None,
    }
    if state is A.terminated:
        record |= {
            "terminated_on": spec.terminated_on,
            "termination_reason": "养老机构搬迁，双方协商一致提前终止。",
            "terminated_at": ended_at,
            "terminated_by_institution_id": spec.elderly.id,
        }
    return {key: value for key, value in record.items() if value is not None}


def _visit_days(spec: DemoAgreement, today: date, rng: random.Random) -> list[date]:
    """The 巡诊 an agreement owed over the last two years, at its frequency, kept with its compliance."""
    first = max(spec.start, today - timedelta(days=730))
    last = min(spec.end, spec.terminated_on or spec.end, today - timedelta(days=1))
    if spec.state in (A.draft, A.submitted, A.countersigned) or first > last:
        return []
    step = 7 / spec.visits_per_period if spec.period is VisitPeriod.week else 30.4 / spec.visits_per_period
    days: list[date] = []
    offset = rng.uniform(1, step)
    while offset <= (last - first).days:
        if spec.compliance >= 1.0 or rng.random() < spec.compliance:
            days.append(first + timedelta(days=int(offset)))
        offset += step
    return days


FINDINGS = (
    "常规巡诊；血压、血糖复测，个别老人调整用药。",
    "巡诊查房，慢病随访，指导压疮预防。",
    "健康讲座一次；两位老人建议门诊复查。",
    "巡诊评估失能老人康复情况，调整康复计划。",
)
REFERRAL_REASONS = {
    ReferralDirection.up: (
        "夜间突发胸闷气促，经绿色通道转诊急诊。",
        "跌倒后髋部疼痛，转诊骨科。",
        "发热咳嗽三天，转诊呼吸科。",
    ),
    ReferralDirection.down: ("术后病情稳定，转回养老机构康复。", "肺炎治愈出院，转回机构继续护理。"),
}
SURNAMES = "林陈黄张吴王郑李刘蔡杨许叶曾周谢何苏邱游"
GIVEN = ("秀英", "桂兰", "玉珍", "金水", "阿妹", "国华", "淑贞", "文清", "丽珠", "建成")


def _referral_rows(
    spec: DemoAgreement, today: date, now: datetime, rng: random.Random, counter: list[int]
) -> list[dict[str, Any]]:
    """Past referrals under ``spec`` as ``POST /referrals/bulk`` takes them (``ReferralRecord``): their
    state and the moments of its transitions, none after ``now`` (a request of today is placed before
    it, a return still to come is dated now)."""
    if not (REFERRAL_SERVICES & set(spec.services)) or spec.state in (A.draft, A.submitted, A.countersigned):
        return []
    first = max(spec.start, today - timedelta(days=730))
    last = min(spec.end, spec.terminated_on or spec.end, today)
    months = (last - first).days / 30.4
    if months <= 0:
        return []
    rows = []
    for _ in range(int(months * rng.uniform(0.0, 0.08) + rng.random())):
        direction = ReferralDirection.up if rng.random() < 0.7 else ReferralDirection.down
        day = first + timedelta(days=rng.randint(0, max(0, (last - first).days)))
        requested = datetime.combine(day, time(rng.randint(7, 22), rng.randint(0, 59)), CHINA_TZ)
        requested = min(requested, now - timedelta(hours=4))
        age_days = (today - day).days
        draw = rng.random()
        state = (
            ReferralState.returned
            if draw < 0.8
            else ReferralState.declined
            if draw < 0.9
            else ReferralState.cancelled
        )
        if age_days <= 3:
            state = rng.choice((ReferralState.requested, ReferralState.accepted, ReferralState.admitted))
        elif age_days <= 20 and draw < 0.5:
            state = ReferralState.admitted
        counter[0] += 1
        n = counter[0]
        birth = date(1930 + n % 20, 1 + n % 12, 1 + n % 28)
        # sequence 750–999 (homecare's seed 500–749, the residents' from 0): one number, one person
        first17 = f"{spec.elderly.region_code}{birth:%Y%m%d}{750 + n % 250:03d}"
        number = first17 + id_number_check_char(first17)
        urgency = (
            Urgency.emergency if direction is ReferralDirection.up and rng.random() < 0.4 else Urgency.routine
        )
        accepted = requested + timedelta(minutes=rng.randint(5, 90))
        reached = {
            ReferralState.requested: 0,
            ReferralState.accepted: 1,
            ReferralState.admitted: 2,
            ReferralState.returned: 3,
            ReferralState.declined: 0,
            ReferralState.cancelled: 0,
        }[state]
        reason = rng.choice(REFERRAL_REASONS[direction])
        name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        rows.append(
            {
                "external_id": str(demo_id("referral", f"{spec.id}-{n}")),
                "agreement_external_id": str(spec.id),
                "direction": direction.value,
                "urgency": urgency.value,
                "reason": reason,
                "resident": {"name": name, "id_number": number},
                "state": state.value,
                "requested_at": requested,
                "requested_by": "seed",
                "accepted_at": accepted if reached >= 1 else None,
                "admitted_at": accepted + timedelta(hours=1) if reached >= 2 else None,
                "returned_at": min(now, accepted + timedelta(days=rng.randint(3, 15)))
                if reached >= 3
                else None,
                "closed_at": requested + timedelta(hours=2)
                if state in (ReferralState.declined, ReferralState.cancelled)
                else None,
                "close_reason": {
                    ReferralState.declined: "床位已满，建议转诊上级医院",
                    ReferralState.cancelled: "家属改为自行就医",
                }.get(state),
            }
        )
    return rows


def _named_referral(spec: DemoAgreement, *, now: datetime) -> dict[str, Any]:
    requested = now - timedelta(days=3, hours=2)
    return {
        "external_id": str(demo_id("referral", "兰馨颐养院-李秀英")),
        "agreement_external_id": str(spec.id),
        "direction": ReferralDirection.up.value,
        "urgency": Urgency.emergency.value,
        "reason": "夜间突发胸闷气促，经绿色通道转诊急诊。",
        "resident": {"name": "李秀英", "id_number": "350206194003150029", "phone": "13712345678"},
        "state": ReferralState.admitted.value,
        "requested_at": requested,
        "requested_by": "lanxin_admin",
        "accepted_at": requested + timedelta(minutes=12),
        "admitted_at": requested + timedelta(minutes=55),
    }


def _named_down_referral(spec: DemoAgreement, *, now: datetime) -> dict[str, Any]:
    """黄国平 — a homecare recipient of 新开元 (demo.homecare, the same ID number) — referred down to
    兰馨颐养院 after a hospital stay, back home two weeks later: one elder in homecare and in referrals, one
    person of the residents' index once linked (issue 19)."""
    requested = now - timedelta(days=60)
    return {
        "external_id": str(demo_id("referral", "厦门新开元医院-黄国平")),
        "agreement_external_id": str(spec.id),
        "direction": ReferralDirection.down.value,
        "urgency": Urgency.routine.value,
        "reason": "2型糖尿病酮症住院治疗后病情稳定，下转兰馨颐养院康复护理两周。",
        "resident": {"name": "黄国平", "id_number": "350206194403050035", "phone": "13906001002"},
        "state": ReferralState.returned.value,
        "requested_at": requested,
        "requested_by": "xinkaiyuan_admin",
        "accepted_at": requested + timedelta(hours=3),
        "admitted_at": requested + timedelta(days=1),
        "returned_at": requested + timedelta(days=15),
    }


def _named_visits(spec: DemoAgreement, today: date) -> list[dict[str, Any]]:
    """Weekly rounds over the last ten weeks, with two weeks missed (a small shortfall to show)."""
    doctor = demo_id("practitioner", "张建国")
    nurse = demo_id("practitioner", "林晓燕")
    rows = []
    for week in range(10):
        if week in (3, 7):
            continue
        day = today - timedelta(days=7 * week + 2)
        rows.append(
            _visit_record(spec, day, [doctor, nurse], 18 + week % 4, FINDINGS[0], "xinkaiyuan_doctor")
        )
    return rows


def _visit_record(
    spec: DemoAgreement, day: date, staff: list[uuid.UUID], seen: int, findings: str, recorded_by: str
) -> dict[str, Any]:
    """A past 巡诊 as ``POST /visits/bulk`` takes it (``VisitRecord``), keyed by its demo id."""
    return {
        "external_id": str(demo_id("visit", f"{spec.id}-{day.isoformat()}")),
        "agreement_external_id": str(spec.id),
        "visit_date": day,
        "practitioner_ids": staff,
        "residents_seen": seen,
        "services": [S.medical_rounds.value, S.health_management.value],
        "findings": findings,
        "recorded_by": recorded_by,
    }


def _rounds_staff(spec: DemoAgreement) -> list[uuid.UUID]:
    """The medical party's 巡诊 doctor of the generated province (a demo id: the registry's demo has
    named practitioners only for the briefing's institutions; visits' practitioner ids are not checked)."""
    return [demo_id("practitioner", f"巡诊医师-{spec.medical.id}")]


class DemoRegistry(RegistryClient):
    """The registry as the agreements' bulk writer asks it (parties by id, a region's listing), answered
    from the registry's demo database (:func:`demo.province.read_province`: its active institutions) —
    without it, from the briefing's named institutions as the registry's demo defines them."""

    def __init__(self, province: Province) -> None:  # no HTTP client: nothing goes over the network
        self.max_concurrency = 1
        self.known = {
            place.id: RegistryInstitution(
                id=place.id,
                name=place.name,
                kind=place.kind,
                region_code=place.region_code,
                has_medical_unit=place.has_medical_unit,
                category=place.category,
                latitude=place.latitude,
                longitude=place.longitude,
            )
            for place in province.places
        }
        if not province.places:
            for named in (XINKAIYUAN, LIANHUA, LANXIN, HONGAI, LIANHUA_CARE, FUZHOU_WELFARE):
                self.known[named.id] = RegistryInstitution(
                    id=named.id, name=named.name, kind=named.kind, region_code=named.region_code
                )

    async def get_institution(self, institution_id: uuid.UUID) -> RegistryInstitution | None:
        return self.known.get(institution_id)

    async def get_institutions(
        self, institution_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, RegistryInstitution]:
        return {i: self.known[i] for i in set(institution_ids) if i in self.known}

    async def list_institutions(
        self, *, kinds: Collection[str], region_code: str, active_only: bool = True, page_size: int = 200
    ) -> list[RegistryInstitution]:
        scope = RegionScope.for_region(region_code)
        return [
            i
            for i in self.known.values()
            if i.kind in kinds and scope.contains(i.region_code) and (i.active or not active_only)
        ]


Write = Callable[[list[dict[str, Any]]], Awaitable[BulkResponse]]


async def _write_new(
    session: AsyncSession,
    model: type[Agreement | Visit | Referral],
    records: list[tuple[str, dict[str, Any]]],
    write: Write,
    *,
    what: str,
    max_records: int,
) -> int:
    """Send the records not yet written (keyed by their demo id in source system ``demo``) through a
    bulk writer, ``max_records`` a batch, in order; each must be created — one refused raises
    :class:`SeedRejected` naming it and the rule's code. Returns how many were created."""
    held = set(
        (await session.scalars(select(model.external_id).where(model.source_system == SOURCE_SYSTEM))).all()
    )
    wanted = [(name, record) for name, record in records if record["external_id"] not in held]
    for start in range(0, len(wanted), max_records):
        chunk = wanted[start : start + max_records]
        response = await write([record for _name, record in chunk])
        refused = [
            (name, result)
            for (name, _record), result in zip(chunk, response.results, strict=True)
            if result.outcome is not BulkOutcome.created
        ]
        if refused:
            raise SeedRejected(refused, rules="签约服务的", what=what)
        if start % (ANALYZE_EVERY * max_records) == 0:
            await _analyze(session, model)
    return len(wanted)


#: the seed is one transaction, so autovacuum never sees its rows: every this many batches the table is
#: analysed in it (PostgreSQL), or the bulk writer's key lookup (``source_system = … AND external_id IN
#: (1,000 keys)``) keeps the plan made for an empty table — a scan of every row written so far, each
#: tested against the 1,000 keys unhashed in the prepared statement's generic plan: ~2 s a batch at
#: 68,000 visits, the contracts seed 2.5 minutes instead of seconds
ANALYZE_EVERY = 8


async def _analyze(session: AsyncSession, model: type[Agreement | Visit | Referral]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f'ANALYZE "{model.__tablename__}"'))


async def write_agreements(
    session: AsyncSession,
    specs: list[DemoAgreement],
    *,
    registry: RegistryClient,
    cipher: PersonalDataCipher,
    today: date,
    now: datetime,
    max_records: int,
) -> int:
    """Write ``specs`` — drafts, submitted, signed and terminated agreements with their history — through
    the contracts service's bulk writer (``services.contracts.agreements.bulk.upsert``, the code of
    ``POST /agreements/bulk``: the parties' kinds and activity from the registry, the writer's scope, one
    agreement pending or in force per pair, renewals, 备案, the dates' order, audit records and
    change-feed entries) as :data:`SEEDER` with source system ``demo``. A renewal follows the agreement
    it renews. Returns how many were created."""

    async def write(records: list[dict[str, Any]]) -> BulkResponse:
        return await agreements_bulk.upsert(
            session,
            SEEDER,
            AgreementBulk(source_system=SOURCE_SYSTEM, records=records),
            registry=registry,
            cipher=cipher,
            today=today,
            now=now,
            page_size=200,
            max_records=max_records,
        )

    records = [
        (
            f"{spec.medical.name}–{spec.elderly.name} ({spec.start}–{spec.end})",
            _agreement_record(spec, today=today, now=now),
        )
        for spec in specs
    ]
    return await _write_new(session, Agreement, records, write, what="演示协议", max_records=max_records)


async def _seed(
    session: AsyncSession,
    *,
    cipher: PersonalDataCipher,
    today: date,
    now: datetime,
    province: Province,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> int:
    if await session.scalar(select(Agreement.id).where(Agreement.source_system == SOURCE_SYSTEM).limit(1)):
        # seeded already (one transaction: all or nothing): a later day's dates would not fit the records
        # written on the first (a visit of today under an agreement that ended then), so nothing is added
        return 0
    named = demo_agreements(today)
    story = named + _named_with_province(province, today)
    in_force = {s.pair for s in story if (s.state or signed_state_for(s.start, s.end, today)) is A.active}
    specs = story + province_agreements(province, today, SIGNED_PAIRS_TARGET - len(in_force))
    added = await write_agreements(
        session,
        specs,
        registry=DemoRegistry(province),
        cipher=cipher,
        today=today,
        now=now,
        max_records=max_records,
    )
    rng = random.Random(350003)
    visits = _named_visits(named[0], today)
    referrals = [_named_referral(named[0], now=now), _named_down_referral(named[0], now=now)]
    counter = [0]
    for spec in specs[len(named) :]:
        staff = _rounds_staff(spec)
        for day in _visit_days(spec, today, rng):
            visits.append(_visit_record(spec, day, staff, rng.randint(6, 40), rng.choice(FINDINGS), "seed"))
        referrals += _referral_rows(spec, today, now, rng, counter)

    async def write_visits(records: list[dict[str, Any]]) -> BulkResponse:
        request = VisitBulk(source_system=SOURCE_SYSTEM, records=records)
        return await visits_bulk.import_(
            session, SEEDER, request, today=today, now=now, max_records=max_records
        )

    async def write_referrals(records: list[dict[str, Any]]) -> BulkResponse:
        request = ReferralBulk(source_system=SOURCE_SYSTEM, records=records)
        return await referrals_bulk.import_(
            session, SEEDER, request, cipher=cipher, today=today, now=now, max_records=max_records
        )

    added += await _write_new(
        session,
        Visit,
        [(f"巡诊 {r['agreement_external_id']} {r['visit_date']}", r) for r in visits],
        write_visits,
        what="演示巡诊",
        max_records=max_records,
    )
    added += await _write_new(
        session,
        Referral,
        [(f"转诊 {r['agreement_external_id']} {r['requested_at']:%Y-%m-%d %H:%M}", r) for r in referrals],
        write_referrals,
        what="演示转诊",
        max_records=max_records,
    )
    await changes.write_pending_changes(session)
    return added


async def seed(settings: ContractsSettings, registry: RegistrySettings | None = None) -> None:
    """Seed the contracts demo; with ``registry`` (the registry's demo database) the whole province."""
    refuse_in_production(settings)
    province = await read_province(registry) if registry is not None else Province([], [])
    database = Database(settings)
    clock = Clock()
    today = clock.today()
    now = datetime.combine(today, time(9, 0), CHINA_TZ)
    try:
        async with session_scope(database) as session:
            added = await _seed(
                session,
                cipher=personal_data_cipher(settings),
                today=today,
                now=now,
                province=province,
                max_records=settings.bulk_max_records,
            )
    finally:
        await database.dispose()
    print(f"contracts: {added} demo records added")


if __name__ == "__main__":
    asyncio.run(seed(ContractsSettings(), RegistrySettings()))
