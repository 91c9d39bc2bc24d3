"""Demo data of 示范创建: batch 2 (2025–2026) and a few applications along the ladder.

Run after the registry's own seed (it needs the named institutions):
``python -m demo.demonstration``; or call :func:`seed_session` from a seed that already
holds a session. Idempotent (nothing is done when the batch exists); refuses production. Everything goes
through the same service functions as the API, each step on a date inside its stage, so the trail reads
like the real thing:

- 湖里区 applies for itself, 厦门市 recommends it, the province approves and sends it; the nation lists it
  as a candidate (公示 is under way in November 2026).
- 厦门弘爱养护院 applies; its hard criteria are computed from the registry's figures. When they pass it is
  recommended by 湖里区 and then declined by 厦门市 (the city's one recommendation went to 湖里区);
  when they do not, it stays a draft showing which criterion fails and by how much.
- 福州市社会福利院 starts a draft (an elderly-care institution without a medical side: it cannot pass).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo import demo_id, refuse_in_production
from libs.common import changes
from libs.common.auth import Principal, Role
from libs.common.database import Database, session_scope
from services.registry.demonstration import batches, service, transitions
from services.registry.demonstration.errors import CriteriaNotMet
from services.registry.demonstration.models import (
    ApplicationKind,
    AssessmentItem,
    DemonstrationBatch,
    NationalResult,
)
from services.registry.demonstration.schemas import (
    ApplicationCreate,
    BatchCreate,
    BatchStages,
    ExpertScoreIn,
    NationalResultBody,
    OpinionBody,
    ProvinceApproveBody,
    ProvinceReviewWrite,
    ReasonBody,
    SendToNationBody,
    StageWindow,
)
from services.registry.demonstration.workflow import Action
from services.registry.institutions.models import Institution
from services.registry.settings import RegistrySettings

log = logging.getLogger("demo.demonstration")
BATCH_NAME = "第二批全国医养结合示范项目（2025—2026年）"
SEED = "seed:demonstration"


def _stage(start: str, end: str) -> StageWindow:
    return StageWindow(start_date=date.fromisoformat(start), end_date=date.fromisoformat(end))


STAGES = BatchStages(
    preparation=_stage("2026-03-01", "2026-03-31"),
    application=_stage("2026-04-01", "2026-05-15"),
    city_recommendation=_stage("2026-05-16", "2026-05-31"),
    provincial_review=_stage("2026-06-01", "2026-07-31"),
    national_assessment=_stage("2026-08-01", "2026-10-31"),
    public_notice=_stage("2026-11-01", "2026-11-30"),
    naming=_stage("2026-12-01", "2026-12-31"),
)
COUNTY_TEXTS = {  # the work plan's six county criteria (seed 004, 三、创建标准 (一))
    AssessmentItem.leadership: "区委区政府成立医养结合工作领导小组，卫健、民政、医保分工明确、协同推进。",
    AssessmentItem.policy: "区政府将医养结合纳入“十四五”老龄事业发展规划，出台医养结合实施方案和配套政策。",
    AssessmentItem.services: "辖区养老机构全部与医疗机构签约，开展家庭病床和上门护理服务。",
    AssessmentItem.supervision: "建立医养结合机构服务质量评估和卫健、民政联合检查制度。",
    AssessmentItem.support: "区财政每年安排医养结合专项资金；每年组织医养结合从业人员培训两期以上。",
    AssessmentItem.public_approval: "第三方满意度调查显示老年人及家属满意度达 96%。",
}
INSTITUTION_TEXTS = {  # the work plan's five institution criteria (三、创建标准 (二))
    AssessmentItem.facilities: "养老机构备案与医疗机构执业许可齐全，医养结合床位 300 余张，无障碍设施达标。",
    AssessmentItem.staffing: "医师、护士、护理员配置达到标准，定期培训考核。",
    AssessmentItem.management: "建立医养一体化管理制度和信息系统，医护与养护交接规范。",
    AssessmentItem.service_quality: "设内科、康复科、护理单元，提供安宁疗护和失智照护专区，院感防控落实。",
    AssessmentItem.service_outcomes: "近五年无重大安全责任事故，入住老年人及家属满意度调查 97%。",
}

PROVINCE = Principal(sub=SEED, role=Role.province_admin, region_code="350000")
XIAMEN = Principal(sub=SEED, role=Role.city_admin, region_code="350200")
HULI = Principal(sub=SEED, role=Role.county_admin, region_code="350206")


def _institution_admin(institution: Institution) -> Principal:
    return Principal(
        sub=SEED,
        role=Role.institution_admin,
        region_code=institution.region_code,
        institution_id=institution.id,
    )


async def seed_session(session: AsyncSession, settings: RegistrySettings) -> bool:
    """Write the demo batch and its applications; False when they are there already."""
    batch_id = demo_id("demonstration_batch", BATCH_NAME)
    if await session.get(DemonstrationBatch, batch_id) is not None:
        return False
    await batches.create(
        session,
        PROVINCE,
        BatchCreate(name=BATCH_NAME, county_quota=3, institution_quota=2, stages=STAGES),
        settings=settings,
        batch_id=batch_id,
    )

    huli = await service.create(
        session,
        HULI,
        ApplicationCreate(batch_id=batch_id, kind=ApplicationKind.county, self_assessment=COUNTY_TEXTS),
        today=date(2026, 4, 8),
        revoked_bar_years=settings.demo_revoked_bar_years,
    )
    for principal, action, body, day in (
        (HULI, Action.submit, None, date(2026, 4, 20)),
        (
            XIAMEN,
            Action.city_recommend,
            OpinionBody(opinion="经市级评审，推荐湖里区申报全国医养结合示范县"),
            date(2026, 5, 25),
        ),
    ):
        huli = await transitions.perform(session, principal, huli.id, action, body, if_match="*", today=day)
    await transitions.write_province_review(
        session,
        PROVINCE,
        huli.id,
        ProvinceReviewWrite(
            document_review_passed=True,
            document_review_opinion="申报材料齐全，数据与登记信息一致",
            site_visit_date=date(2026, 6, 18),
            site_visit_findings="现场核查情况属实，医养结合服务网络健全",
            expert_scores=[
                ExpertScoreIn(expert_name="陈教授", score=93, comment="政策体系完整"),
                ExpertScoreIn(expert_name="林主任", score=90.5),
                ExpertScoreIn(expert_name="黄处长", score=91),
            ],
        ),
        if_match="*",
        today=date(2026, 6, 20),
    )
    province_steps: tuple[tuple[Action, BaseModel, date], ...] = (
        (Action.province_approve, ProvinceApproveBody(reasons="综合评分第一，同意推荐"), date(2026, 7, 10)),
        (Action.send_to_nation, SendToNationBody(note="随省卫健委推荐函报送"), date(2026, 7, 20)),
        (
            Action.national_result,
            NationalResultBody(
                result=NationalResult.candidate, result_date=date(2026, 11, 2), note="列入拟命名名单公示"
            ),
            date(2026, 11, 2),
        ),
    )
    for step, step_body, day in province_steps:
        huli = await transitions.perform(session, PROVINCE, huli.id, step, step_body, if_match="*", today=day)

    await _institution(session, settings, batch_id, "厦门弘爱养护院", recommend=True)
    await _institution(session, settings, batch_id, "福州市社会福利院", recommend=False)
    await session.flush()
    await changes.write_pending_changes(session)  # what the request session does before its commit
    return True


async def _institution(
    session: AsyncSession, settings: RegistrySettings, batch_id: uuid.UUID, name: str, *, recommend: bool
) -> None:
    institution = await session.scalar(
        select(Institution).where(Institution.id == demo_id("institution", name))
    )
    if institution is None:
        log.info("demonstration seed: %s is not in the registry; skipped", name)
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
        today=date(2026, 4, 10),
        revoked_bar_years=settings.demo_revoked_bar_years,
    )
    if not recommend:
        return
    try:
        application = await transitions.perform(
            session, admin, application.id, Action.submit, None, if_match="*", today=date(2026, 4, 28)
        )
    except CriteriaNotMet:
        log.info("demonstration seed: %s does not meet the hard criteria; left as a draft", name)
        return
    county = Principal(sub=SEED, role=Role.county_admin, region_code=institution.region_code)
    application = await transitions.perform(
        session,
        county,
        application.id,
        Action.county_recommend,
        OpinionBody(opinion="经县级初审，符合申报条件，同意推荐"),
        if_match="*",
        today=date(2026, 5, 8),
    )
    if application.city_code == XIAMEN.region_code:
        await transitions.perform(
            session,
            XIAMEN,
            application.id,
            Action.decline,
            ReasonBody(reason="本批次厦门市推荐湖里区申报示范县"),
            if_match="*",
            today=date(2026, 5, 26),
        )


async def seed(settings: RegistrySettings) -> None:
    refuse_in_production(settings)
    async with session_scope(Database(settings)) as session:
        done = await seed_session(session, settings)
    log.info("demonstration seed: %s", "written" if done else "already present")


if __name__ == "__main__":
    asyncio.run(seed(RegistrySettings()))
