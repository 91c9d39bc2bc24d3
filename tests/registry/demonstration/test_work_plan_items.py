"""The self-assessment follows the work plan's criteria (seed 004, 三、创建标准): six headings for a
county (党政重视，部门协同 … 群众认可，评价良好), five for an institution (环境设施好 … 服务效果好).
The stand-in form's items stay accepted for one API version and land on their heading; stored
ones are moved by registry_0010.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from alembic import command
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from libs.common.migrations import alembic_config
from libs.common.testing import TestDatabases, make_settings
from services.registry.demonstration.models import (
    ApplicationKind,
    ApplicationState,
    DemonstrationApplication,
    DemonstrationAssessmentItem,
    DemonstrationBatch,
)
from services.registry.settings import RegistrySettings
from tests.registry.demonstration.flow import APPLICATIONS, ON_APPLICATION, Flow

# the work plan's criteria, in its order and words
COUNTY_HEADINGS = [
    "党政重视，部门协同",
    "政策支持，推动有力",
    "固本强基，优化提升",
    "严格管理，强化监督",
    "完善支撑，加强保障",
    "群众认可，评价良好",
]
INSTITUTION_HEADINGS = ["环境设施好", "人员队伍好", "内部管理好", "服务质量好", "服务效果好"]
OLD_INSTITUTION_TEXTS = {
    "basic_conditions": "医疗、养老两块执照齐全",
    "service_capacity": "开设康复、护理、安宁疗护科室",
    "management": "制度健全，信息化管理",
    "quality_safety": "近五年无重大安全责任事故",
    "staffing": "医护人员 80 人，护理员持证上岗",
    "social_evaluation": "入住老人及家属满意度 97%",
}


async def test_the_headings_are_the_work_plan_s_criteria(flow: Flow) -> None:
    batch = await flow.batch()
    county = await flow.apply_county(batch["id"])
    institution = await flow.apply_institution(batch["id"], await flow.institution())
    assert [i["label"] for i in county["self_assessment"]] == COUNTY_HEADINGS
    assert [i["label"] for i in institution["self_assessment"]] == INSTITUTION_HEADINGS
    assert all(i["text"] for i in county["self_assessment"] + institution["self_assessment"])


async def test_the_stand_in_form_s_items_are_still_accepted_and_folded(flow: Flow) -> None:
    batch = await flow.batch()
    institution_id = await flow.institution()
    flow.clock.today = ON_APPLICATION
    created = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "institution", "self_assessment": OLD_INSTITUTION_TEXTS},
        headers=flow.institution_admin(institution_id),
    )
    assert created.status_code == 201, created.text
    texts = {i["item"]: i["text"] for i in created.json()["self_assessment"]}
    assert texts == {
        "facilities": "医疗、养老两块执照齐全",
        "staffing": "医护人员 80 人，护理员持证上岗",
        "management": "制度健全，信息化管理",
        "service_quality": "开设康复、护理、安宁疗护科室\n\n近五年无重大安全责任事故",
        "service_outcomes": "入住老人及家属满意度 97%",
    }
    # every heading written: the application can be submitted
    submitted = await flow.step(created.json(), "submit")
    assert submitted["state"] == "submitted"


async def test_a_county_item_of_an_institution_is_refused(flow: Flow) -> None:
    batch = await flow.batch()
    flow.clock.today = ON_APPLICATION
    response = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "county", "self_assessment": {"facilities": "环境设施完善"}},
        headers=flow.county(),
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "demonstration_wrong_assessment_item"


def _batch() -> DemonstrationBatch:
    d = date(2026, 1, 1)
    return DemonstrationBatch(
        name="存量批次",
        county_quota=3,
        institution_quota=2,
        **{
            f"{stage}_{edge}_date": d
            for stage in (
                "preparation",
                "application",
                "city_recommendation",
                "provincial_review",
                "national_assessment",
                "public_notice",
                "naming",
            )
            for edge in ("start", "end")
        },
        operating_cutoff_date=date(2026, 3, 31),
        operating_years_min=5,
        occupancy_min_pct=65,
        disabled_share_min_pct=65,
        satisfaction_min_pct=95,
        created_by="test",
    )


def _application(
    batch_id: uuid.UUID, kind: ApplicationKind, items: dict[str, str]
) -> DemonstrationApplication:
    key = uuid.uuid4().hex[:8]
    return DemonstrationApplication(
        batch_id=batch_id,
        kind=kind,
        applicant_key=f"{kind.value}:{key}",
        region_code="350206",
        city_code="350200",
        applicant_name=f"存量申报{key}",
        state=ApplicationState.draft,
        items=[DemonstrationAssessmentItem(item=item, text=text) for item, text in items.items()],
    )


async def test_the_migration_moves_stored_items_to_the_headings(test_databases: TestDatabases) -> None:
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_schema="registry_0010_check",
        database_url=test_databases.url_for("registry_0010_check"),
    )
    config = alembic_config(settings)
    await asyncio.to_thread(command.upgrade, config, "registry_0009")
    engine = create_async_engine(settings.database_url)
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(schema_translate_map={None: settings.database_schema})
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    try:
        async with sessions() as session:
            batch = _batch()
            session.add(batch)
            await session.flush()
            county = _application(
                batch.id, ApplicationKind.county, {"support": "财政专项资金", "staffing": "每年培训两期"}
            )
            institution = _application(batch.id, ApplicationKind.institution, OLD_INSTITUTION_TEXTS)
            session.add_all([county, institution])
            await session.commit()
            ids = (county.id, institution.id)
        await asyncio.to_thread(command.upgrade, config, "registry_0010")
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(
                        DemonstrationAssessmentItem.application_id,
                        DemonstrationAssessmentItem.item,
                        DemonstrationAssessmentItem.text,
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    stored = {(a, str(i)): t for a, i, t in rows}
    assert stored == {
        (ids[0], "support"): "财政专项资金\n\n每年培训两期",
        (ids[1], "facilities"): "医疗、养老两块执照齐全",
        (ids[1], "staffing"): "医护人员 80 人，护理员持证上岗",
        (ids[1], "management"): "制度健全，信息化管理",
        (ids[1], "service_quality"): "开设康复、护理、安宁疗护科室\n\n近五年无重大安全责任事故",
        (ids[1], "service_outcomes"): "入住老人及家属满意度 97%",
    }
