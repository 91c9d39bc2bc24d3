"""Demo data of 示范创建: the first batch (2023) as it was named, and batch 2 (2025–2026) under way.

Run after the registry's own seed (it needs the named institutions):
``python -m demo.demonstration``; or call :func:`seed_session` from a seed that already
holds a session. Idempotent (a batch that exists is left alone); refuses production. Everything goes
through the same service functions as the API, each step on a date inside its stage, so the trail reads
like the real thing.

Batch 1 (2023; seed 003: the province's first-batch 全国医养结合示范): 漳州市芗城区, 泉州市晋江市 and
龙岩市长汀县 as counties, 福州市社会福利院 and 厦门市莲花爱心护理院 as institutions — one a city, the quotas
3 and 2 — each applies, is recommended, reviewed, sent, listed and named in December 2023. Naming writes the
institutions' ``national_demonstration_year`` (2023: the batch is a national one; the provincial year is
not touched). Its cut-off date (2023-03-31) assesses 2021 and 2022, older than the registry's demo
figures: each institution first reports those two years (demo figures from its beds and residents).

Batch 2 (planned on 2026 dates, moved by whole days so that its provincial review is open on the day the
seed runs — ``Calendar`` — so the province always has applications to review; steps planned after that day
are not taken):

- 湖里区 applies for itself and 厦门市 recommends it; 南安市 applies and 泉州市 recommends it: both wait for
  the province's review.
- 厦门弘爱养护院 applies; its hard criteria are computed from the registry's figures. When they pass it is
  recommended by 湖里区 and then declined by 厦门市 (the city's one recommendation went to 湖里区);
  when they do not, it stays a draft showing which criterion fails and by how much.
- 兰馨颐养院 starts a draft (its occupancy is under the threshold: it cannot submit).

福州市社会福利院 and 厦门市莲花爱心护理院 hold a title from batch 1 and do not apply again.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id, refuse_in_production
from libs.common import changes, divisions
from libs.common.auth import Principal, Role
from libs.common.clock import today_in_china
from libs.common.database import Database, session_scope
from services.registry.demonstration import batches, service, transitions
from services.registry.demonstration.criteria import assessment_years
from services.registry.demonstration.errors import CriteriaNotMet
from services.registry.demonstration.figures import days_in_year
from services.registry.demonstration.models import (
    ApplicationKind,
    AssessmentItem,
    DemonstrationApplication,
    DemonstrationBatch,
    NationalResult,
)
from services.registry.demonstration.schemas import (
    ApplicationCreate,
    BatchCreate,
    BatchStages,
    ExpertScoreIn,
    NameBody,
    NationalResultBody,
    OpinionBody,
    ProvinceApproveBody,
    ProvinceReviewWrite,
    ReasonBody,
    SendToNationBody,
    StageWindow,
)
from services.registry.demonstration.workflow import Action
from services.registry.institutions import service as institutions
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import YearStatWrite
from services.registry.settings import RegistrySettings

log = logging.getLogger("demo.demonstration")
FIRST_BATCH_NAME = "第一批全国医养结合示范项目（2023年）"
BATCH_NAME = "第二批全国医养结合示范项目（2025—2026年）"
SEED = "seed:demonstration"


def _stage(start: str, end: str) -> StageWindow:
    return StageWindow(start_date=date.fromisoformat(start), end_date=date.fromisoformat(end))


FIRST_STAGES = BatchStages(
    preparation=_stage("2023-03-01", "2023-03-31"),
    application=_stage("2023-04-01", "2023-05-15"),
    city_recommendation=_stage("2023-05-16", "2023-05-31"),
    provincial_review=_stage("2023-06-01", "2023-07-31"),
    national_assessment=_stage("2023-08-01", "2023-10-31"),
    public_notice=_stage("2023-11-01", "2023-11-30"),
    naming=_stage("2023-12-01", "2023-12-31"),
)
FIRST_CUTOFF = date(2023, 3, 31)  # the end of preparation, as batch 2's default cut-off (2026-03-31)
FIRST_NAMED_ON = date(2023, 12, 15)
PLANNED_REVIEW_DAY = date(2026, 6, 15)  # inside the planned provincial review
FIRST_DOCUMENT_NO = "国卫老龄函〔2023〕216号"  # a demo number: the source documents do not give it
#: batch 2 as planned for 2026; the seed moves it (``Calendar``) so that its provincial review is open
STAGES = BatchStages(
    preparation=_stage("2026-03-01", "2026-03-31"),
    application=_stage("2026-04-01", "2026-05-15"),
    city_recommendation=_stage("2026-05-16", "2026-05-31"),
    provincial_review=_stage("2026-06-01", "2026-07-31"),
    national_assessment=_stage("2026-08-01", "2026-10-31"),
    public_notice=_stage("2026-11-01", "2026-11-30"),
    naming=_stage("2026-12-01", "2026-12-31"),
)


@dataclass(frozen=True, slots=True)
class FirstBatchCounty:
    region_code: str
    city_code: str


#: seed 003, 四: 漳州市芗城区, 泉州市晋江市, 龙岩市长汀县 (counties); 福州市社会福利院, 厦门市莲花爱心护理院
FIRST_BATCH_COUNTIES = (
    FirstBatchCounty("350602", "350600"),
    FirstBatchCounty("350582", "350500"),
    FirstBatchCounty("350821", "350800"),
)
FIRST_BATCH_INSTITUTIONS = ("福州市社会福利院", "厦门市莲花爱心护理院")


def county_texts(seat: str) -> dict[AssessmentItem, str]:
    """The work plan's six county criteria (seed 004, 三、创建标准 (一)); ``seat`` is 区, 市 or 县."""
    return {
        AssessmentItem.leadership: (
            f"{seat}委{seat}政府成立医养结合工作领导小组，卫健、民政、医保分工明确、协同推进。"
        ),
        AssessmentItem.policy: (
            f"{seat}政府将医养结合纳入“十四五”老龄事业发展规划，出台医养结合实施方案和配套政策。"
        ),
        AssessmentItem.services: "辖区养老机构全部与医疗机构签约，开展家庭病床和上门护理服务。",
        AssessmentItem.supervision: "建立医养结合机构服务质量评估和卫健、民政联合检查制度。",
        AssessmentItem.support: (
            f"{seat}财政每年安排医养结合专项资金；每年组织医养结合从业人员培训两期以上。"
        ),
        AssessmentItem.public_approval: "第三方满意度调查显示老年人及家属满意度达 96%。",
    }


COUNTY_TEXTS = county_texts("区")
INSTITUTION_TEXTS = {  # the work plan's five institution criteria (三、创建标准 (二))
    AssessmentItem.facilities: "养老机构备案与医疗机构执业许可（或内设医疗机构备案）齐全，无障碍设施达标。",
    AssessmentItem.staffing: "医师、护士、护理员配置达到标准，定期培训考核。",
    AssessmentItem.management: "建立医养一体化管理制度和信息系统，医护与养护交接规范。",
    AssessmentItem.service_quality: "设内科、康复科、护理单元，提供安宁疗护和失智照护专区，院感防控落实。",
    AssessmentItem.service_outcomes: "近五年无重大安全责任事故，入住老年人及家属满意度调查 97%。",
}
#: the demo figures an institution reports for a year the first batch assessed: 失能/失智 residents' share
ASSESSED_DISABLED_SHARE = (0.62, 0.18, 0.72)  # 失能, 失智, 失能或失智 (one counted once)

PROVINCE = Principal(sub=SEED, role=Role.province_admin, region_code="350000")
XIAMEN = Principal(sub=SEED, role=Role.city_admin, region_code="350200")
HULI = Principal(sub=SEED, role=Role.county_admin, region_code="350206")
NAN_AN = Principal(sub=SEED, role=Role.county_admin, region_code="350583")
QUANZHOU = Principal(sub=SEED, role=Role.city_admin, region_code="350500")


def _county(code: str) -> Principal:
    return Principal(sub=SEED, role=Role.county_admin, region_code=code)


def _city(code: str) -> Principal:
    return Principal(sub=SEED, role=Role.city_admin, region_code=code)


def _institution_admin(institution: Institution) -> Principal:
    return Principal(
        sub=SEED,
        role=Role.institution_admin,
        region_code=institution.region_code,
        institution_id=institution.id,
    )


async def seed_session(session: AsyncSession, settings: RegistrySettings) -> bool:
    """Write the demo batches and their applications; False when both are there already."""
    written = await _first_batch(session, settings)
    written = await _second_batch(session, settings) or written
    if written:
        await session.flush()
        await changes.write_pending_changes(session)  # what the request session does before its commit
    return written


async def _institution_named(session: AsyncSession, name: str) -> Institution | None:
    institution = await session.scalar(
        select(Institution).where(Institution.id == demo_id("institution", name))
    )
    if institution is None:
        log.info("demonstration seed: %s is not in the registry; skipped", name)
    return institution


# ------------------------------------------------------------------------------------------ batch 1


async def _first_batch(session: AsyncSession, settings: RegistrySettings) -> bool:
    batch_id = demo_id("demonstration_batch", FIRST_BATCH_NAME)
    if await session.get(DemonstrationBatch, batch_id) is not None:
        return False
    await batches.create(
        session,
        PROVINCE,
        BatchCreate(
            name=FIRST_BATCH_NAME,
            county_quota=len(FIRST_BATCH_COUNTIES),
            institution_quota=len(FIRST_BATCH_INSTITUTIONS),
            stages=FIRST_STAGES,
            operating_cutoff_date=FIRST_CUTOFF,
        ),
        settings=settings,
        batch_id=batch_id,
    )
    applications: list[tuple[DemonstrationApplication, Principal]] = []
    for i, county in enumerate(FIRST_BATCH_COUNTIES):
        applicant = _county(county.region_code)
        division = divisions.get(county.region_code)
        seat = division.name[-1] if division is not None else "县"  # 区, 市 or 县
        application = await service.create(
            session,
            applicant,
            ApplicationCreate(
                batch_id=batch_id, kind=ApplicationKind.county, self_assessment=county_texts(seat)
            ),
            today=date(2023, 4, 3) + timedelta(days=i),
            revoked_bar_years=settings.demo_revoked_bar_years,
        )
        application = await transitions.perform(
            session,
            applicant,
            application.id,
            Action.submit,
            None,
            if_match="*",
            today=date(2023, 4, 17) + timedelta(days=i),
        )
        applications.append((application, _city(county.city_code)))
    for i, name in enumerate(FIRST_BATCH_INSTITUTIONS):
        institution = await _institution_named(session, name)
        if institution is None:
            continue
        admin = _institution_admin(institution)
        await _report_assessed_years(session, admin, institution, FIRST_CUTOFF)
        application = await service.create(
            session,
            admin,
            ApplicationCreate(
                batch_id=batch_id,
                kind=ApplicationKind.institution,
                self_assessment=INSTITUTION_TEXTS,
                declared_satisfaction_pct=97.5,
                declared_no_major_incident=True,
            ),
            today=date(2023, 4, 6) + timedelta(days=i),
            revoked_bar_years=settings.demo_revoked_bar_years,
        )
        application = await transitions.perform(
            session,
            admin,
            application.id,
            Action.submit,
            None,
            if_match="*",
            today=date(2023, 4, 20) + timedelta(days=i),
        )
        application = await transitions.perform(
            session,
            _county(institution.region_code),
            application.id,
            Action.county_recommend,
            OpinionBody(opinion="经县级初审，符合申报条件，同意推荐"),
            if_match="*",
            today=date(2023, 5, 5) + timedelta(days=i),
        )
        applications.append((application, _city(application.city_code)))

    for i, (application, city) in enumerate(applications):
        await _through_the_province(session, application.id, city, offset=i)
    return True


async def _report_assessed_years(
    session: AsyncSession, admin: Principal, institution: Institution, cutoff: date
) -> None:
    """The years the batch assesses (two before the cut-off), as the institution reports them through the
    registry's year-figures write (demo figures: today's beds and residents, 72 % 失能/失智); a year the
    registry already holds is left as it is."""
    years = assessment_years(cutoff)
    present = {stat.year for stat in await institutions.year_stats(session, institution.id, years)}
    beds, residents = institution.beds_elderly_care, min(institution.residents, institution.beds_elderly_care)
    if not beds or not residents:
        return
    disabled, dementia, either = (round(residents * share) for share in ASSESSED_DISABLED_SHARE)
    for year in years:
        if year in present:
            continue
        await institutions.put_year_stat(
            session,
            admin,
            institution.id,
            year,
            YearStatWrite(
                operating_beds=beds,
                occupied_bed_days=residents * days_in_year(year),
                residents=residents,
                disabled_residents=disabled,
                dementia_residents=dementia,
                disabled_or_dementia_residents=either,
            ),
            if_match=None,
        )


async def _through_the_province(
    session: AsyncSession, application_id: uuid.UUID, city: Principal, *, offset: int
) -> None:
    """City recommendation, the provincial review, the nation's list and the naming of a first-batch
    applicant (one step a few days after the other, each in its stage)."""
    day = timedelta(days=offset)
    await transitions.perform(
        session,
        city,
        application_id,
        Action.city_recommend,
        OpinionBody(opinion="经市级评审，同意推荐申报全国医养结合示范"),
        if_match="*",
        today=date(2023, 5, 22) + day,
    )
    await transitions.write_province_review(
        session,
        PROVINCE,
        application_id,
        ProvinceReviewWrite(
            document_review_passed=True,
            document_review_opinion="申报材料齐全，数据与登记信息一致",
            site_visit_date=date(2023, 6, 5) + 2 * day,
            site_visit_findings="现场核查情况属实",
            expert_scores=[
                ExpertScoreIn(expert_name="陈教授", score=92 - offset),
                ExpertScoreIn(expert_name="林主任", score=90.5),
                ExpertScoreIn(expert_name="黄处长", score=91),
            ],
        ),
        if_match="*",
        today=date(2023, 6, 12) + 2 * day,
    )
    steps: tuple[tuple[Action, BaseModel, date], ...] = (
        (Action.province_approve, ProvinceApproveBody(reasons="专家评审通过，同意推荐"), date(2023, 7, 10)),
        (Action.send_to_nation, SendToNationBody(note="随省卫健委推荐函报送"), date(2023, 7, 20)),
        (
            Action.national_result,
            NationalResultBody(
                result=NationalResult.candidate, result_date=date(2023, 10, 30), note="列入拟命名名单公示"
            ),
            date(2023, 10, 30),
        ),
        (Action.name, NameBody(named_date=FIRST_NAMED_ON, document_no=FIRST_DOCUMENT_NO), FIRST_NAMED_ON),
    )
    for action, body, on in steps:
        await transitions.perform(session, PROVINCE, application_id, action, body, if_match="*", today=on)


# ------------------------------------------------------------------------------------------ batch 2


@dataclass(frozen=True, slots=True)
class Calendar:
    """Batch 2's plan (the 2026 dates below) moved by whole days so that its provincial review is open on
    the day the seed runs: whatever the date, 湖里区 and 南安市 wait for the province (prov_admin has two
    applications to review) and the steps planned after that day are not taken."""

    today: date

    def at(self, planned: date) -> date:
        return planned + (self.today - PLANNED_REVIEW_DAY)

    def due(self, planned: date) -> bool:
        return self.at(planned) <= self.today

    def stages(self) -> BatchStages:
        def moved(window: StageWindow) -> StageWindow:
            return StageWindow(start_date=self.at(window.start_date), end_date=self.at(window.end_date))

        return BatchStages(**{name: moved(getattr(STAGES, name)) for name in BatchStages.model_fields})


Step = tuple[Principal, Action, BaseModel | None, date]


async def _steps(
    session: AsyncSession, calendar: Calendar, application_id: uuid.UUID, steps: Sequence[Step]
) -> None:
    """Take the planned steps that fall on or before today, in order."""
    for principal, action, body, planned in steps:
        if not calendar.due(planned):
            return
        await transitions.perform(
            session, principal, application_id, action, body, if_match="*", today=calendar.at(planned)
        )


async def _second_batch(session: AsyncSession, settings: RegistrySettings) -> bool:
    batch_id = demo_id("demonstration_batch", BATCH_NAME)
    if await session.get(DemonstrationBatch, batch_id) is not None:
        return False
    calendar = Calendar(today_in_china())
    await batches.create(
        session,
        PROVINCE,
        BatchCreate(name=BATCH_NAME, county_quota=3, institution_quota=2, stages=calendar.stages()),
        settings=settings,
        batch_id=batch_id,
    )
    await _county_application(
        session,
        settings,
        calendar,
        batch_id,
        HULI,
        COUNTY_TEXTS,
        created=date(2026, 4, 8),
        steps=[
            (HULI, Action.submit, None, date(2026, 4, 20)),
            (
                XIAMEN,
                Action.city_recommend,
                OpinionBody(opinion="经市级评审，推荐湖里区申报全国医养结合示范县"),
                date(2026, 5, 25),
            ),
        ],
    )
    await _county_application(
        session,
        settings,
        calendar,
        batch_id,
        NAN_AN,
        county_texts("市"),
        created=date(2026, 4, 9),
        steps=[
            (NAN_AN, Action.submit, None, date(2026, 4, 24)),
            (
                QUANZHOU,
                Action.city_recommend,
                OpinionBody(opinion="经市级评审，推荐南安市申报全国医养结合示范县"),
                date(2026, 5, 27),
            ),
        ],
    )
    await _institution(session, settings, calendar, batch_id, "厦门弘爱养护院", recommend=True)
    await _institution(session, settings, calendar, batch_id, "兰馨颐养院", recommend=False)
    return True


async def _county_application(
    session: AsyncSession,
    settings: RegistrySettings,
    calendar: Calendar,
    batch_id: uuid.UUID,
    county: Principal,
    texts: dict[AssessmentItem, str],
    *,
    created: date,
    steps: Sequence[Step],
) -> None:
    application = await service.create(
        session,
        county,
        ApplicationCreate(batch_id=batch_id, kind=ApplicationKind.county, self_assessment=texts),
        today=calendar.at(created),
        revoked_bar_years=settings.demo_revoked_bar_years,
    )
    await _steps(session, calendar, application.id, steps)


async def _institution(
    session: AsyncSession,
    settings: RegistrySettings,
    calendar: Calendar,
    batch_id: uuid.UUID,
    name: str,
    *,
    recommend: bool,
) -> None:
    institution = await _institution_named(session, name)
    if institution is None:
        return
    admin = _institution_admin(institution)
    application = await service.create(
        session,
        admin,
        ApplicationCreate(
            batch_id=batch_id,
            kind=ApplicationKind.institution,
            self_assessment=INSTITUTION_TEXTS,
            declared_satisfaction_pct=97.0,
            declared_no_major_incident=True,
        ),
        today=calendar.at(date(2026, 4, 10)),
        revoked_bar_years=settings.demo_revoked_bar_years,
    )
    if not recommend:
        return
    county = _county(institution.region_code)
    steps: list[Step] = [
        (admin, Action.submit, None, date(2026, 4, 28)),
        (
            county,
            Action.county_recommend,
            OpinionBody(opinion="经县级初审，符合申报条件，同意推荐"),
            date(2026, 5, 8),
        ),
    ]
    if application.city_code == XIAMEN.region_code:
        steps.append(
            (XIAMEN, Action.decline, ReasonBody(reason="本批次厦门市推荐湖里区申报示范县"), date(2026, 5, 26))
        )
    try:
        await _steps(session, calendar, application.id, steps)
    except CriteriaNotMet:
        log.info("demonstration seed: %s does not meet the hard criteria; left as a draft", name)


async def seed(settings: RegistrySettings) -> None:
    refuse_in_production(settings)
    async with session_scope(Database(settings)) as session:
        done = await seed_session(session, settings)
    log.info("demonstration seed: %s", "written" if done else "already present")


if __name__ == "__main__":
    asyncio.run(seed(RegistrySettings()))
