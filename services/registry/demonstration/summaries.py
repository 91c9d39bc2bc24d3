"""推荐汇总表: the city's table (what reached the city and its opinion) and the province's (what the cities
recommended and the provincial decision), one for counties and one for institutions, built from the
figures frozen at submission.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common import divisions
from libs.common.auth import Principal, Role
from libs.common.errors import Forbidden, Unprocessable
from services.registry.demonstration import batches
from services.registry.demonstration.criteria import assessment_years
from services.registry.demonstration.models import (
    STATE_LABELS,
    ApplicationKind,
    ApplicationState,
    DemonstrationApplication,
)
from services.registry.demonstration.schemas import SummaryColumn, SummaryRow, SummaryTable
from services.registry.demonstration.service import average_score
from services.registry.institutions.kinds import KIND_LABELS as INSTITUTION_KIND_LABELS
from services.registry.institutions.kinds import InstitutionKind

SummaryLevel = Literal["city", "province"]
KIND_TITLES = {
    ApplicationKind.county: "全国医养结合示范县（市、区）",
    ApplicationKind.institution: "全国医养结合示范机构",
}


def figure_columns(kind: ApplicationKind, years: tuple[int, int]) -> list[SummaryColumn]:
    if kind is ApplicationKind.county:
        return [
            SummaryColumn(key="integrated_institutions", header="医养结合机构数（家）", type="number"),
            SummaryColumn(key="beds_integrated", header="医养结合床位数（张）", type="number"),
        ]
    first, last = years
    return [
        SummaryColumn(key="institution_kind", header="机构类别", type="text"),
        SummaryColumn(key="medical_operating_since", header="医疗服务开展时间", type="date"),
        SummaryColumn(key="elderly_care_operating_since", header="养老服务开展时间", type="date"),
        SummaryColumn(key="operating_beds", header=f"{last}年实际开放床位（张）", type="number"),
        SummaryColumn(key=f"occupancy_{first}", header=f"{first}年床位使用率（%）", type="number"),
        SummaryColumn(key=f"occupancy_{last}", header=f"{last}年床位使用率（%）", type="number"),
        SummaryColumn(key="disabled_share", header="失能、失智老年人占比（%）", type="number"),
        SummaryColumn(key="satisfaction", header="满意度（%）", type="number"),
    ]


def _figures(application: DemonstrationApplication, years: tuple[int, int]) -> dict[str, str | None]:
    frozen: dict[str, Any] = application.frozen_figures or {}
    registry: dict[str, Any] = frozen.get("registry") or {}
    criteria = {c["code"]: c for c in frozen.get("criteria") or []}
    if application.kind is ApplicationKind.county:
        return {
            "integrated_institutions": _text(registry.get("integrated_institutions")),
            "beds_integrated": _text(registry.get("beds_integrated")),
        }
    occupancy = {y["year"]: y.get("value") for y in (criteria.get("occupancy") or {}).get("years") or []}
    stats = {s["year"]: s for s in registry.get("year_stats") or []}
    kind = registry.get("kind")
    return {
        "institution_kind": INSTITUTION_KIND_LABELS.get(InstitutionKind(kind)) if kind else None,
        "medical_operating_since": registry.get("medical_operating_since"),
        "elderly_care_operating_since": registry.get("elderly_care_operating_since"),
        "operating_beds": _text((stats.get(years[1]) or {}).get("operating_beds")),
        f"occupancy_{years[0]}": occupancy.get(years[0]),
        f"occupancy_{years[1]}": occupancy.get(years[1]),
        "disabled_share": (criteria.get("disabled_share") or {}).get("value"),
        "satisfaction": (criteria.get("satisfaction") or {}).get("value"),
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _city_opinion(application: DemonstrationApplication) -> str:
    if application.city_recommended_date is not None:
        return f"推荐：{application.city_opinion or ''}"
    if application.state is ApplicationState.declined:
        return f"不予推荐：{application.closed_reason or ''}"
    return "待审核"


def _province_decision(application: DemonstrationApplication) -> str:
    state = application.state
    if state is ApplicationState.city_recommended:
        return "待评审"
    if state is ApplicationState.province_approved:
        return f"评审通过：{application.province_decision_reasons or ''}"
    if state is ApplicationState.declined:
        return f"不予推荐：{application.closed_reason or ''}"
    if application.province_decision_reasons:
        return f"评审通过：{application.province_decision_reasons}（{STATE_LABELS[state]}）"
    return STATE_LABELS[state]


async def build(
    session: AsyncSession,
    principal: Principal,
    batch_id: uuid.UUID,
    *,
    level: SummaryLevel,
    kind: ApplicationKind,
    city_code: str | None,
) -> SummaryTable:
    batch = await batches.get(session, batch_id)
    if level == "province":
        if principal.role not in (Role.province_admin, Role.service):
            raise Forbidden("省级推荐汇总表只有省级可以查看", code="demonstration_summary_forbidden")
        city_code = None
    else:
        if principal.role is Role.city_admin:
            city_code = city_code or principal.region_code
        if city_code is None:
            raise Unprocessable("请指定设区市（city_code）", code="demonstration_city_required")
        division = divisions.get(city_code)
        if division is None or not division.is_city_unit:
            raise Unprocessable(
                f"{city_code} 不是设区市或平潭综合实验区的代码", code="demonstration_not_a_city"
            )
        if principal.role is not Role.service and not principal.scope.contains(city_code):
            raise Forbidden("不能查看其他设区市的推荐汇总表", code="demonstration_summary_forbidden")

    stmt = (
        select(DemonstrationApplication)
        .where(DemonstrationApplication.batch_id == batch.id, DemonstrationApplication.kind == kind)
        .options(selectinload(DemonstrationApplication.expert_scores))
    )
    if level == "province":
        stmt = stmt.where(DemonstrationApplication.city_recommended_date.is_not(None))
    else:
        reached = (
            DemonstrationApplication.county_recommended_date
            if kind is ApplicationKind.institution
            else DemonstrationApplication.submitted_date
        )
        stmt = stmt.where(DemonstrationApplication.city_code == city_code, reached.is_not(None))
    stmt = stmt.order_by(
        DemonstrationApplication.city_code,
        DemonstrationApplication.region_code,
        DemonstrationApplication.applicant_name,
    )
    applications = list((await session.scalars(stmt)).all())

    years = assessment_years(batch.operating_cutoff_date)
    rows = [
        SummaryRow(
            number=number,
            application_id=application.id,
            city_name=_name(application.city_code),
            region_name=_name(application.region_code),
            applicant_name=application.applicant_name,
            state=application.state,
            head_name=application.head_name,
            head_phone=application.head_phone,
            contact_name=application.contact_name,
            contact_phone=application.contact_phone,
            postal_address=application.postal_address,
            postal_code=application.postal_code,
            figures=_figures(application, years),
            submitted_date=application.submitted_date,
            county_recommended_date=application.county_recommended_date,
            county_opinion=application.county_opinion,
            city_recommended_date=application.city_recommended_date,
            city_opinion=_city_opinion(application),
            province_decision=_province_decision(application) if level == "province" else None,
            province_average_score=average_score(application) if level == "province" else None,
        )
        for number, application in enumerate(applications, start=1)
    ]
    issuer = "福建省" if level == "province" or city_code is None else _city_title(city_code)
    return SummaryTable(
        title=f"{issuer}{KIND_TITLES[kind]}推荐汇总表（{batch.name}）",
        batch_id=batch.id,
        batch_name=batch.name,
        level=level,
        kind=kind,
        city_code=city_code,
        figure_columns=figure_columns(kind, years),
        rows=rows,
    )


def recommending_unit(table: SummaryTable) -> str:
    """The form's 推荐单位: the city's health commission (平潭: its 社会事业局, seed 004's addressee), or the
    province's commission for the table it sends to the nation."""
    if table.level == "province" or table.city_code is None:
        return "福建省卫生健康委员会"
    if table.city_code == divisions.PINGTAN_CODE:
        return "平潭综合实验区社会事业局"
    return f"{_name(table.city_code)}卫生健康委"


def _city_title(city_code: str) -> str:
    return "平潭综合实验区" if city_code == divisions.PINGTAN_CODE else _name(city_code)


def _name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code
