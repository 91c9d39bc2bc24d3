"""Demo data: agreements among the briefing's named institutions, some 巡诊 visits and a referral.

Idempotent (records are keyed by stable demo ids and skipped when present); refuses production.
Seeds never call other services: party names and region codes come from the briefing, ids from
``demo_id("institution", name)`` exactly as the registry's seed makes them. Dates are relative to
today (Asia/Shanghai), so the demo always shows an agreement in force, one about to expire, a draft
and an expired one.

    python -m demo.contracts
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id, refuse_in_production
from libs.common.changes import write_pending_changes
from libs.common.database import Database, session_scope
from libs.common.keys import personal_data_cipher
from libs.common.personal_data import PersonalDataCipher
from services.contracts import models as _all_models  # noqa: F401  (every model and its feed declaration)
from services.contracts.agreements.lifecycle import signed_state_for
from services.contracts.agreements.models import Agreement, AgreementState, FeePayer, ServiceKind, VisitPeriod
from services.contracts.agreements.service import default_title
from services.contracts.clock import CHINA_TZ, Clock
from services.contracts.referrals.models import Referral, ReferralDirection, ReferralState, Urgency
from services.contracts.settings import ContractsSettings
from services.contracts.visits.models import Visit


@dataclass(frozen=True)
class Party:
    name: str
    region_code: str
    kind: str

    @property
    def id(self) -> uuid.UUID:
        return demo_id("institution", self.name)


XINKAIYUAN = Party("厦门新开元医院", "350206", "medical")
LIANHUA = Party("厦门莲花医院", "350203", "medical")
LANXIN = Party("兰馨颐养院", "350206", "elderly_care")
HONGAI = Party("厦门弘爱养护院", "350206", "integrated")
LIANHUA_CARE = Party("厦门市莲花爱心护理院", "350203", "integrated")

S = ServiceKind


@dataclass(frozen=True)
class DemoAgreement:
    medical: Party
    elderly: Party
    start: date
    end: date
    services: tuple[ServiceKind, ...]
    visits_per_week: int
    state: AgreementState | None = None  # None: signed, state from the dates

    @property
    def id(self) -> uuid.UUID:
        return demo_id("agreement", f"{self.medical.name}-{self.elderly.name}-{self.start.isoformat()[:4]}")


def demo_agreements(today: date) -> list[DemoAgreement]:
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
        DemoAgreement(
            LIANHUA,
            LIANHUA_CARE,
            today - timedelta(days=345),
            today + timedelta(days=20),
            (S.medical_rounds, S.two_way_referral, S.rehabilitation, S.tcm),
            1,
        ),
        DemoAgreement(
            XINKAIYUAN,
            HONGAI,
            today + timedelta(days=30),
            today + timedelta(days=394),
            (S.medical_rounds, S.emergency_green_channel, S.training),
            2,
            AgreementState.draft,
        ),
        DemoAgreement(
            LIANHUA,
            LANXIN,
            today - timedelta(days=400),
            today - timedelta(days=35),
            (S.medical_rounds, S.appointment),
            1,
        ),
    ]


def _agreement(spec: DemoAgreement, *, cipher: PersonalDataCipher, today: date, now: datetime) -> Agreement:
    state = spec.state or signed_state_for(spec.start, spec.end, today)
    signed = state is not AgreementState.draft
    return Agreement(
        id=spec.id,
        medical_institution_id=spec.medical.id,
        medical_name=spec.medical.name,
        medical_region_code=spec.medical.region_code,
        elderly_institution_id=spec.elderly.id,
        elderly_name=spec.elderly.name,
        elderly_region_code=spec.elderly.region_code,
        elderly_kind=spec.elderly.kind,
        region_code=spec.elderly.region_code,
        state=state,
        title=default_title(spec.medical.name, spec.elderly.name),
        services=[s.value for s in spec.services],
        visit_count=spec.visits_per_week,
        visit_period=VisitPeriod.week,
        visit_staff="全科医师 1 名、护士 1 名，每次巡诊半天",
        green_channel_terms="乙方老人突发急症时，甲方急诊科优先接诊，15 分钟内响应。"
        if S.emergency_green_channel in spec.services
        else None,
        fee_payer=FeePayer.elderly_care_party,
        fee_amount_yuan=Decimal("12000.00"),
        fee_terms="巡诊服务费按年结算；诊疗费用按医保规定结算。",
        medical_duties="按约定频次巡诊，建立健康档案，开展健康管理和专业培训。",
        elderly_duties="提供巡诊场地，配合做好老人健康信息登记和转诊交接。",
        start_date=spec.start,
        end_date=spec.end,
        medical_contact_name="医务科",
        medical_contact_phone_enc=cipher.encrypt("13800000001"),
        elderly_contact_name="院长办公室",
        elderly_contact_phone_enc=cipher.encrypt("13900000002"),
        submitted_by_institution_id=spec.elderly.id if signed else None,
        submitted_at=now if signed else None,
        countersigned_at=now if signed else None,
        activated_at=now if state in (AgreementState.active, AgreementState.expired) else None,
        expired_at=now if state is AgreementState.expired else None,
        filed_at=now if signed else None,
        filed_by="huli_admin" if spec.elderly.region_code == "350206" else "siming_admin",
    )


def _visits(spec: DemoAgreement, today: date) -> list[Visit]:
    """Weekly rounds over the last ten weeks, with two weeks missed (a small shortfall to show)."""
    doctor = demo_id("practitioner", "张建国")
    nurse = demo_id("practitioner", "林晓燕")
    visits = []
    for week in range(10):
        if week in (3, 7):
            continue
        day = today - timedelta(days=7 * week + 2)
        visits.append(
            Visit(
                id=demo_id("visit", f"{spec.id}-{day.isoformat()}"),
                agreement_id=spec.id,
                region_code=spec.elderly.region_code,
                medical_region_code=spec.medical.region_code,
                medical_institution_id=spec.medical.id,
                elderly_institution_id=spec.elderly.id,
                visit_date=day,
                practitioner_ids=[str(doctor), str(nurse)],
                residents_seen=18 + week % 4,
                resident_refs=[],
                services=[S.medical_rounds.value, S.health_management.value],
                findings="常规巡诊；血压、血糖复测，个别老人调整用药。",
                homebound_orders=[],
                recorded_by="xinkaiyuan_doctor",
            )
        )
    return visits


def _referral(spec: DemoAgreement, *, cipher: PersonalDataCipher, now: datetime) -> Referral:
    requested = now - timedelta(days=3, hours=2)
    return Referral(
        id=demo_id("referral", "兰馨颐养院-李秀英"),
        agreement_id=spec.id,
        direction=ReferralDirection.up,
        urgency=Urgency.emergency,
        from_institution_id=spec.elderly.id,
        to_institution_id=spec.medical.id,
        medical_institution_id=spec.medical.id,
        elderly_institution_id=spec.elderly.id,
        region_code=spec.elderly.region_code,
        state=ReferralState.admitted,
        reason="夜间突发胸闷气促，经绿色通道转诊急诊。",
        resident_name_enc=cipher.encrypt("李秀英"),
        resident_id_number_enc=cipher.encrypt("350206194003150029"),
        resident_id_hash=cipher.lookup_hash("350206194003150029", "id_card"),
        resident_phone_enc=cipher.encrypt("13712345678"),
        requested_at=requested,
        requested_by="lanxin_admin",
        accepted_at=requested + timedelta(minutes=12),
        admitted_at=requested + timedelta(minutes=55),
    )


async def _seed(session: AsyncSession, *, cipher: PersonalDataCipher, today: date, now: datetime) -> int:
    added = 0
    specs = demo_agreements(today)
    for spec in specs:
        if await session.get(Agreement, spec.id) is None:
            session.add(_agreement(spec, cipher=cipher, today=today, now=now))
            added += 1
    await session.flush()
    active = specs[0]
    for visit in _visits(active, today):
        if await session.get(Visit, visit.id) is None:
            session.add(visit)
            added += 1
    referral = _referral(active, cipher=cipher, now=now)
    if await session.get(Referral, referral.id) is None:
        session.add(referral)
        added += 1
    await session.flush()
    await write_pending_changes(session)
    return added


async def seed(settings: ContractsSettings) -> None:
    refuse_in_production(settings)
    database = Database(settings)
    clock = Clock()
    today = clock.today()
    now = datetime.combine(today, time(9, 0), CHINA_TZ)
    try:
        async with session_scope(database) as session:
            added = await _seed(session, cipher=personal_data_cipher(settings), today=today, now=now)
    finally:
        await database.dispose()
    print(f"contracts: {added} demo records added")


if __name__ == "__main__":
    asyncio.run(seed(ContractsSettings()))
