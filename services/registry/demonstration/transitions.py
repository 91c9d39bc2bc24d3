"""The review transitions: one function per action, all behind :func:`perform`.

Order of the checks: the application is visible (404) → If-Match (428/412) → the caller's level may take
this action from this state (403 not the applicant / 409 passed up, naming the holder / 409 illegal
transition with the allowed actions) → the batch's stage window (409 with the deadline) → the action's
own rules (422 criteria, 409 city already recommended, quota).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import IllegalTransition
from services.registry.demonstration import batches
from services.registry.demonstration.criteria import anniversary
from services.registry.demonstration.errors import (
    CityRecommendationTaken,
    CriteriaNotMet,
    NotApplicant,
    QuotaExhausted,
    ReviewIncomplete,
)
from services.registry.demonstration.models import (
    KIND_LABELS,
    STATE_LABELS,
    ApplicationKind,
    ApplicationState,
    DemonstrationApplication,
    DemonstrationCityRecommendation,
    DemonstrationExpertScore,
    DemonstrationReassessment,
    NationalResult,
)
from services.registry.demonstration.schemas import (
    NameBody,
    NationalResultBody,
    OpinionBody,
    ProvinceApproveBody,
    ProvinceReviewWrite,
    ReasonBody,
    ReassessBody,
    SendToNationBody,
)
from services.registry.demonstration.service import (
    average_score,
    compute_criteria,
    ensure_held_by,
    ensure_loaded,
    evaluate,
    get,
    holder_of,
    is_own,
    record_event,
    touch,
)
from services.registry.demonstration.workflow import (
    ACTION_LABELS,
    Action,
    Level,
    Move,
    acting_level,
    allowed_actions,
    city_held_state,
    find_move,
    holder,
    is_above,
)
from services.registry.institutions.models import Institution

S = ApplicationState
REASSESSMENT_INTERVAL_YEARS = 2  # rules.md 示范: dynamic management, re-assessed every two years
SENT_STATES = (S.sent_to_nation, S.national_candidate, S.named, S.not_named, S.revoked)

# the stage whose window bounds each action: (stage, check its start, check its end)
WINDOWS: dict[Action, tuple[str, bool, bool]] = {
    Action.submit: ("application", True, True),
    Action.county_recommend: ("application", False, True),
    Action.city_recommend: ("city_recommendation", False, True),
    Action.province_approve: ("provincial_review", False, True),
    Action.send_to_nation: ("provincial_review", False, True),
    Action.national_result: ("national_assessment", True, False),
    Action.name: ("naming", True, False),
}
# the stage a level works in: a return by that level reopens the lower levels until its end
LEVEL_STAGE = {
    Level.county: "application",
    Level.city: "city_recommendation",
    Level.province: "provincial_review",
}


def resolve_move(
    principal: Principal, application: DemonstrationApplication, action: Action
) -> tuple[Move, Level]:
    """The move the caller may make, or the precise refusal (403 / 409 locked / 409 illegal)."""
    level = acting_level(principal.role, application.kind)
    if action is Action.submit and (
        level is not Level.applicant or not is_own(principal, application, level)
    ):
        raise NotApplicant("只有申报单位可以提交申报")
    if level is Level.applicant and not is_own(principal, application, level):
        raise NotApplicant("只有申报单位可以办理本申报")
    move = find_move(application.kind, application.state, action)
    if move is not None and level is move.level:
        return move, level
    holding = holder(application.kind, application.state)
    if level is not None and is_above(holding, level):
        ensure_held_by(application, level, doing=ACTION_LABELS[action])
    raise IllegalTransition(
        entity="示范申报",
        state=f"{application.state.value}（{STATE_LABELS[application.state]}）",
        action=action.value,
        allowed=allowed_actions(application.kind, application.state, level),
    )


def _check_window(
    application: DemonstrationApplication, action: Action, today: date, extra_end: date | None
) -> None:
    window = WINDOWS.get(action)
    if window is None:
        return
    stage, check_start, check_end = window
    batches.ensure_within(
        application.batch,
        stage,
        today,
        doing=ACTION_LABELS[action],
        check_start=check_start,
        check_end=check_end,
        extended_until=extra_end,
    )


async def _reopened_until(
    session: AsyncSession, application: DemonstrationApplication, action: Action
) -> date | None:
    """How long a return keeps the lower levels' stages open: for the returned application itself and,
    when the province returned one of a city's applications, for that city's recommendation in the batch
    (the city may then recommend that one again or another)."""
    if action not in (Action.submit, Action.county_recommend, Action.city_recommend):
        return None
    candidates = [application.reopened_until_date]
    if action is Action.city_recommend:
        candidates.append(
            await session.scalar(
                select(func.max(DemonstrationApplication.reopened_until_date)).where(
                    DemonstrationApplication.batch_id == application.batch_id,
                    DemonstrationApplication.city_code == application.city_code,
                    DemonstrationApplication.returned_level == Level.province.value,
                )
            )
        )
    dates = [d for d in candidates if d is not None]
    return max(dates) if dates else None


async def perform(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    action: Action,
    body: BaseModel | None,
    *,
    if_match: str | None,
    today: date,
) -> DemonstrationApplication:
    application = await get(session, principal, application_id, details=False)
    check_if_match(if_match, application.version)
    move, level = resolve_move(principal, application, action)
    extended = await _reopened_until(session, application, action)
    if (
        action is Action.national_result
        and isinstance(body, NationalResultBody)
        and body.result is NationalResult.named
    ):
        _check_window(application, Action.name, today, None)
    else:
        _check_window(application, action, today, extended)
    source = application.state
    reason, details = await _apply(session, principal, application, move, level, body, today)
    await session.flush()
    record_event(
        session,
        principal,
        application,
        action=action.value,
        from_state=source,
        today=today,
        reason=reason,
        details=details,
    )
    await ensure_loaded(session, application)
    return application


async def _apply(
    session: AsyncSession,
    principal: Principal,
    application: DemonstrationApplication,
    move: Move,
    level: Level,
    body: BaseModel | None,
    today: date,
) -> tuple[str | None, dict[str, Any] | None]:
    """Change the application for ``move``; returns the trail's (reason, details)."""
    action = move.action
    if action is Action.submit:
        return await _submit(session, application, today)
    if action is Action.county_recommend:
        assert isinstance(body, OpinionBody)
        _move_up(application, S.county_recommended)
        application.county_recommended_date = today
        application.county_opinion = body.opinion
        return body.opinion, None
    if action is Action.city_recommend:
        assert isinstance(body, OpinionBody)
        await _city_recommend(session, principal, application, body, today)
        return body.opinion, None
    if action is Action.province_approve:
        assert isinstance(body, ProvinceApproveBody)
        await _ensure_review_complete(session, application)
        _move_up(application, S.province_approved)
        application.province_decision_reasons = body.reasons
        application.province_approved_date = today
        return body.reasons, {"average_score": average_score(application)}
    if action is Action.send_to_nation:
        assert isinstance(body, SendToNationBody)
        await _ensure_quota(session, application)
        _move_up(application, S.sent_to_nation)
        application.sent_to_nation_date = today
        return body.note, None
    if action is Action.national_result:
        assert isinstance(body, NationalResultBody)
        return await _national_result(session, principal, application, body)
    if action is Action.name:
        assert isinstance(body, NameBody)
        await _mark_named(
            session, principal, application, named_date=body.named_date, document_no=body.document_no
        )
        return None, {"named_date": body.named_date.isoformat(), "document_no": body.document_no}
    if action is Action.reassess:
        assert isinstance(body, ReassessBody)
        await ensure_loaded(session, application, "reassessments")
        return _reassess(principal, application, body)
    if action is Action.revoke:
        assert isinstance(body, ReasonBody)
        await _set_institution_mark(session, principal, application, None)
        _close(application, S.revoked, body.reason, today)
        application.next_reassessment_due_date = None
        return body.reason, None
    if action is Action.return_:
        assert isinstance(body, ReasonBody)
        await _return(session, application, level, body.reason, today)
        return body.reason, {"returned_to": holder_of(application).model_dump(mode="json")}
    if action is Action.decline:
        assert isinstance(body, ReasonBody)
        _close(application, S.declined, body.reason, today)
        return body.reason, {"declined_by": level.value}
    raise AssertionError(f"unhandled action {action}")  # pragma: no cover


def _move_up(application: DemonstrationApplication, state: ApplicationState) -> None:
    application.state = state
    application.returned_reason = None
    application.returned_date = None
    application.returned_level = None


def _close(application: DemonstrationApplication, state: ApplicationState, reason: str, today: date) -> None:
    application.state = state
    application.closed_reason = reason
    application.closed_date = today


async def _submit(
    session: AsyncSession, application: DemonstrationApplication, today: date
) -> tuple[str | None, dict[str, Any] | None]:
    report = await evaluate(session, application, today=today)
    if report.failing:
        failed = [c for c in report.criteria if c.hard and not c.passed]
        missing = [i.item.value for i in report.self_assessment if not i.filled]
        parts = [f"{c.label}：{c.detail}" for c in failed]
        if missing:
            parts.append(f"自评未填写：{'、'.join(i.label for i in report.self_assessment if not i.filled)}")
        raise CriteriaNotMet(
            "不满足申报条件，不能提交：" + "；".join(parts),
            extra={
                "failing": report.failing,
                "criteria": [c.model_dump(mode="json") for c in failed],
                "missing_items": missing,
            },
        )
    results, registry = await compute_criteria(session, application, application.batch)
    batch = application.batch
    application.frozen_figures = {
        "evaluated_on": today.isoformat(),
        "operating_cutoff_date": batch.operating_cutoff_date.isoformat(),
        "thresholds": {
            "operating_years_min": batch.operating_years_min,
            "occupancy_min_pct": batch.occupancy_min_pct,
            "disabled_share_min_pct": batch.disabled_share_min_pct,
            "satisfaction_min_pct": batch.satisfaction_min_pct,
        },
        "criteria": [c.model_dump(mode="json") for c in results],
        "registry": registry,
        "declared": {
            "satisfaction_pct": application.declared_satisfaction_pct,
            "no_major_incident": application.declared_no_major_incident,
        },
    }
    application.submitted_date = today
    _move_up(application, S.submitted)
    return None, {"criteria": {c.code: c.passed for c in results}}


async def _city_recommend(
    session: AsyncSession,
    principal: Principal,
    application: DemonstrationApplication,
    body: OpinionBody,
    today: date,
) -> None:
    taken = await session.scalar(
        select(DemonstrationApplication)
        .join(
            DemonstrationCityRecommendation,
            DemonstrationCityRecommendation.application_id == DemonstrationApplication.id,
        )
        .where(
            DemonstrationCityRecommendation.batch_id == application.batch_id,
            DemonstrationCityRecommendation.city_code == application.city_code,
        )
    )
    if taken is not None:
        raise _taken(application, taken)
    # built now: once a flush fails, the session must not be touched again before its rollback
    lost_race = _taken(application, None)
    session.add(
        DemonstrationCityRecommendation(
            batch_id=application.batch_id,
            city_code=application.city_code,
            application_id=application.id,
            recommended_date=today,
            actor_sub=principal.sub,
        )
    )
    _move_up(application, S.city_recommended)
    application.city_recommended_date = today
    application.city_opinion = body.opinion
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent recommendation of the same city committed first
        raise lost_race from exc


def _taken(
    application: DemonstrationApplication, taken: DemonstrationApplication | None
) -> CityRecommendationTaken:
    city = holder_of(application).name if holder(application.kind, application.state) is Level.city else None
    what = f"「{taken.applicant_name}」（{KIND_LABELS[taken.kind]}）" if taken is not None else "另一项申报"
    return CityRecommendationTaken(
        f"{city or '本市'}在本批次已推荐{what}，每个设区市（含平潭综合实验区）每批只能推荐一个县或一个机构",
        extra={
            "city_code": application.city_code,
            "recommended_application_id": str(taken.id) if taken is not None else None,
        },
    )


async def _ensure_review_complete(session: AsyncSession, application: DemonstrationApplication) -> None:
    await ensure_loaded(session, application, "expert_scores")
    missing = []
    if application.province_document_review_passed is not True:
        missing.append("书面审核未通过或未记录")
    if application.province_site_visit_date is None:
        missing.append("未记录现场核查")
    if not application.expert_scores:
        missing.append("没有专家评分")
    if missing:
        raise ReviewIncomplete(
            "省级评审记录不完整，不能作出通过决定：" + "；".join(missing), extra={"missing": missing}
        )


async def _ensure_quota(session: AsyncSession, application: DemonstrationApplication) -> None:
    batch = application.batch
    quota = batch.county_quota if application.kind is ApplicationKind.county else batch.institution_quota
    sent = await session.scalar(
        select(func.count())
        .select_from(DemonstrationApplication)
        .where(
            DemonstrationApplication.batch_id == batch.id,
            DemonstrationApplication.kind == application.kind,
            DemonstrationApplication.state.in_(SENT_STATES),
        )
    )
    if (sent or 0) >= quota:
        raise QuotaExhausted(
            f"本批次{KIND_LABELS[application.kind]}名额 {quota} 个已报满，不能再报送",
            extra={"quota": quota, "sent": sent},
        )


async def _national_result(
    session: AsyncSession,
    principal: Principal,
    application: DemonstrationApplication,
    body: NationalResultBody,
) -> tuple[str | None, dict[str, Any] | None]:
    if body.result is NationalResult.candidate and application.state is S.national_candidate:
        raise IllegalTransition(
            entity="示范申报",
            state=f"{application.state.value}（{STATE_LABELS[application.state]}）",
            action=f"{Action.national_result.value}:{body.result.value}",
            allowed=[
                f"{Action.national_result.value}:named",
                f"{Action.national_result.value}:not_named",
                Action.name.value,
            ],
        )
    application.national_result = body.result
    application.national_result_date = body.result_date
    application.national_result_note = body.note
    if body.result is NationalResult.candidate:
        application.state = S.national_candidate
    elif body.result is NationalResult.not_named:
        _close(application, S.not_named, body.note or "", body.result_date)
    else:
        assert body.document_no is not None
        await _mark_named(
            session, principal, application, named_date=body.result_date, document_no=body.document_no
        )
    return body.note, {"result": body.result.value, "result_date": body.result_date.isoformat()}


async def _mark_named(
    session: AsyncSession,
    principal: Principal,
    application: DemonstrationApplication,
    *,
    named_date: date,
    document_no: str,
) -> None:
    application.state = S.named
    application.national_result = NationalResult.named
    application.national_result_date = application.national_result_date or named_date
    application.named_date = named_date
    application.named_document_no = document_no
    application.next_reassessment_due_date = anniversary(named_date, REASSESSMENT_INTERVAL_YEARS)
    await _set_institution_mark(session, principal, application, named_date.year)


async def _set_institution_mark(
    session: AsyncSession, principal: Principal, application: DemonstrationApplication, year: int | None
) -> None:
    """Naming marks the institution in the registry (``national_demonstration_year``); revoking clears it."""
    if application.kind is not ApplicationKind.institution or application.institution_id is None:
        return
    institution = await session.get(Institution, application.institution_id)
    if institution is None:
        return
    before = institution.national_demonstration_year
    if year is None and application.named_date is not None and before != application.named_date.year:
        return  # named again later in another batch: not ours to clear
    institution.national_demonstration_year = year
    audit.record(
        session,
        principal,
        action="institution.national_demonstration",
        entity_type="institution",
        entity_id=institution.id,
        changes={
            "national_demonstration_year": [before, year],
            "demonstration_application_id": application.id,
        },
    )


def _reassess(
    principal: Principal, application: DemonstrationApplication, body: ReassessBody
) -> tuple[str | None, dict[str, Any] | None]:
    application.reassessments.append(
        DemonstrationReassessment(
            assessed_date=body.assessed_date,
            passed=body.passed,
            opinion=body.opinion,
            actor_sub=principal.sub,
        )
    )
    if body.passed:
        application.next_reassessment_due_date = anniversary(body.assessed_date, REASSESSMENT_INTERVAL_YEARS)
    touch(application)  # a failed re-assessment changes no state: the province decides on revocation
    return body.opinion, {"assessed_date": body.assessed_date.isoformat(), "passed": body.passed}


async def _return(
    session: AsyncSession, application: DemonstrationApplication, level: Level, reason: str, today: date
) -> None:
    source = application.state
    if source in (S.city_recommended, S.province_approved):
        target = city_held_state(application.kind)
        await session.execute(
            delete(DemonstrationCityRecommendation).where(
                DemonstrationCityRecommendation.application_id == application.id
            )
        )
        application.city_recommended_date = None
        application.city_opinion = None
        application.province_approved_date = None
        application.province_decision_reasons = None
    elif source is S.county_recommended:
        target = S.submitted
        application.county_recommended_date = None
        application.county_opinion = None
    else:
        target = S.draft
        application.frozen_figures = None
        application.submitted_date = None
    application.state = target
    application.returned_reason = reason
    application.returned_date = today
    application.returned_level = level.value
    application.reopened_until_date = batches.stage_window(application.batch, LEVEL_STAGE[level])[1]


async def write_province_review(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    data: ProvinceReviewWrite,
    *,
    if_match: str | None,
    today: date,
) -> DemonstrationApplication:
    """Record (or correct) the provincial review while the province holds the application undecided."""
    application = await get(session, principal, application_id, details=False)
    check_if_match(if_match, application.version)
    level = acting_level(principal.role, application.kind)
    if level is not None and is_above(holder(application.kind, application.state), level):
        ensure_held_by(application, level, doing="记录省级评审")
    if application.state is not S.city_recommended:
        raise IllegalTransition(
            entity="示范申报",
            state=f"{application.state.value}（{STATE_LABELS[application.state]}）",
            action="province-review",
            allowed=allowed_actions(application.kind, application.state, level),
        )
    batches.ensure_within(
        application.batch, "provincial_review", today, doing="记录省级评审", check_start=False
    )
    application.province_document_review_passed = data.document_review_passed
    application.province_document_review_opinion = data.document_review_opinion
    application.province_site_visit_date = data.site_visit_date
    application.province_site_visit_findings = data.site_visit_findings
    await ensure_loaded(session, application, "expert_scores")
    application.expert_scores.clear()
    await session.flush()
    application.expert_scores.extend(
        DemonstrationExpertScore(position=i, expert_name=s.expert_name, score=s.score, comment=s.comment)
        for i, s in enumerate(data.expert_scores)
    )
    touch(application)
    await session.flush()
    details = data.model_dump(mode="json")
    record_event(
        session,
        principal,
        application,
        action="province-review",
        from_state=application.state,
        today=today,
        reason=data.document_review_opinion,
        details=details,
    )
    await ensure_loaded(session, application)
    return application
