"""Applications: create, read, edit while the applicant holds them, criteria, attachments, trail, named list.

The review transitions are in :mod:`services.registry.demonstration.transitions`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from fastapi import UploadFile
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload, undefer

from libs.common import audit, divisions
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import FieldError, Unprocessable
from libs.common.models import utcnow
from libs.common.pagination import PageParams, paginate
from libs.common.scope import can_see, visible_condition
from services.registry.demonstration import batches, criteria, figures
from services.registry.demonstration.attachments import read_checked
from services.registry.demonstration.errors import (
    AlreadyApplied,
    ApplicationLocked,
    ApplicationNotFound,
    AttachmentNotFound,
    InstitutionNotEligible,
    NotApplicant,
    RevokedRecently,
    WrongApplicantRole,
)
from services.registry.demonstration.models import (
    DEPRECATED_ITEMS,
    ITEM_LABELS,
    ITEMS_BY_KIND,
    KIND_LABELS,
    ApplicationKind,
    ApplicationState,
    AssessmentItem,
    DemonstrationApplication,
    DemonstrationAssessmentItem,
    DemonstrationAttachment,
    DemonstrationBatch,
    DemonstrationReviewEvent,
)
from services.registry.demonstration.schemas import (
    ApplicationCreate,
    ApplicationListItem,
    ApplicationRead,
    ApplicationUpdate,
    AssessmentItemRead,
    AttachmentRead,
    CriteriaReport,
    CriterionResult,
    ExpertScoreRead,
    HolderRead,
    ItemStatus,
    ProvinceReviewRead,
    ReassessmentRead,
)
from services.registry.demonstration.workflow import (
    LEVEL_LABELS,
    Level,
    acting_level,
    allowed_actions,
    holder,
)
from services.registry.institutions.models import Institution

ENTITY = "demonstration_application"


# ---------------------------------------------------------------------------------------------- reading


DETAILS = ("items", "attachments", "expert_scores", "reassessments")


async def get(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, details: bool = True
) -> DemonstrationApplication:
    """The application (with its batch, and its parts unless ``details=False``), or 404 when it does not
    exist or lies outside the caller's scope."""
    stmt = select(DemonstrationApplication).where(DemonstrationApplication.id == application_id)
    stmt = stmt.options(joinedload(DemonstrationApplication.batch))
    if details:
        stmt = stmt.options(*(selectinload(getattr(DemonstrationApplication, name)) for name in DETAILS))
    application = await session.scalar(stmt)
    if application is None or not can_see(
        principal, region_code=application.region_code, institution_ids=[application.institution_id]
    ):
        raise ApplicationNotFound()
    return application


async def ensure_loaded(session: AsyncSession, application: DemonstrationApplication, *names: str) -> None:
    """Load the parts not loaded yet (each relationship is ``lazy="raise"``: loading is always explicit)."""
    missing = [name for name in names or DETAILS if name in inspect(application).unloaded]
    if missing:
        await session.refresh(application, missing)


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    batch_id: uuid.UUID | None = None,
    kind: ApplicationKind | None = None,
    state: ApplicationState | None = None,
    region_code: str | None = None,
) -> tuple[list[DemonstrationApplication], str | None]:
    stmt = select(DemonstrationApplication).where(
        visible_condition(
            principal, DemonstrationApplication.region_code, DemonstrationApplication.institution_id
        )
    )
    if batch_id is not None:
        stmt = stmt.where(DemonstrationApplication.batch_id == batch_id)
    if kind is not None:
        stmt = stmt.where(DemonstrationApplication.kind == kind)
    if state is not None:
        stmt = stmt.where(DemonstrationApplication.state == state)
    if region_code is not None:
        stmt = stmt.where(DemonstrationApplication.region_code == region_code)
    return await paginate(
        session,
        stmt,
        order_by=[DemonstrationApplication.created_at, DemonstrationApplication.id],
        params=params,
    )


def holder_name(application: DemonstrationApplication, level: Level) -> str:
    if level is Level.applicant:
        return application.applicant_name
    if level is Level.county:
        return f"{_name(application.region_code)}卫生健康局"
    if level is Level.city:
        if application.city_code == divisions.PINGTAN_CODE:
            return "平潭综合实验区卫生健康主管部门"
        return f"{_name(application.city_code)}卫生健康委员会"
    if level is Level.province:
        return "福建省卫生健康委员会"
    if level is Level.nation:
        return "国家卫生健康委员会"
    return LEVEL_LABELS[Level.closed]


def holder_of(application: DemonstrationApplication) -> HolderRead:
    level = holder(application.kind, application.state)
    return HolderRead(level=level, name=holder_name(application, level))


def actions_for(principal: Principal, application: DemonstrationApplication) -> list[str]:
    level = acting_level(principal.role, application.kind)
    if level is None or not is_own(principal, application, level):
        return []
    return allowed_actions(application.kind, application.state, level)


def is_own(principal: Principal, application: DemonstrationApplication, level: Level) -> bool:
    """The caller is the applicant itself (not merely someone who can see it) when acting as applicant."""
    if level is not Level.applicant:
        return True
    if application.kind is ApplicationKind.institution:
        return principal.institution_id is not None and principal.institution_id == application.institution_id
    return principal.region_code == application.region_code


def to_list_item(application: DemonstrationApplication) -> ApplicationListItem:
    return ApplicationListItem(
        id=application.id,
        batch_id=application.batch_id,
        kind=application.kind,
        state=application.state,
        region_code=application.region_code,
        city_code=application.city_code,
        institution_id=application.institution_id,
        applicant_name=application.applicant_name,
        holder=holder_of(application),
        submitted_date=application.submitted_date,
        county_recommended_date=application.county_recommended_date,
        city_recommended_date=application.city_recommended_date,
        named_date=application.named_date,
        version=application.version,
        created_at=application.created_at,
        updated_at=application.updated_at,
    )


def to_read(application: DemonstrationApplication, principal: Principal) -> ApplicationRead:
    texts = {item.item: item.text for item in application.items}
    scores = [ExpertScoreRead.model_validate(s) for s in application.expert_scores]
    return ApplicationRead(
        **to_list_item(application).model_dump(
            exclude={"kind_label", "state_label", "region_name", "city_name"}
        ),
        self_assessment=[
            AssessmentItemRead(item=item, text=texts.get(item)) for item in ITEMS_BY_KIND[application.kind]
        ],
        attachments=[AttachmentRead.model_validate(a) for a in application.attachments],
        declared_satisfaction_pct=application.declared_satisfaction_pct,
        declared_no_major_incident=application.declared_no_major_incident,
        contact_name=application.contact_name,
        contact_phone=application.contact_phone,
        head_name=application.head_name,
        head_phone=application.head_phone,
        postal_address=application.postal_address,
        postal_code=application.postal_code,
        frozen_figures=application.frozen_figures,
        county_opinion=application.county_opinion,
        city_opinion=application.city_opinion,
        province_review=ProvinceReviewRead(
            document_review_passed=application.province_document_review_passed,
            document_review_opinion=application.province_document_review_opinion,
            site_visit_date=application.province_site_visit_date,
            site_visit_findings=application.province_site_visit_findings,
            expert_scores=scores,
            average_score=average_score(application),
            decision_reasons=application.province_decision_reasons,
            approved_date=application.province_approved_date,
        ),
        sent_to_nation_date=application.sent_to_nation_date,
        national_result=application.national_result,
        national_result_date=application.national_result_date,
        national_result_note=application.national_result_note,
        named_document_no=application.named_document_no,
        next_reassessment_due_date=application.next_reassessment_due_date,
        reassessments=[ReassessmentRead.model_validate(r) for r in application.reassessments],
        returned_reason=application.returned_reason,
        returned_date=application.returned_date,
        returned_level=Level(application.returned_level) if application.returned_level else None,
        close_reason=application.closed_reason,
        closed_date=application.closed_date,
        allowed_actions=actions_for(principal, application),
    )


def average_score(application: DemonstrationApplication) -> float | None:
    scores = [s.score for s in application.expert_scores]
    return round(sum(scores) / len(scores), 2) if scores else None


# --------------------------------------------------------------------------------------------- applying


def record_event(
    session: AsyncSession,
    principal: Principal,
    application: DemonstrationApplication,
    *,
    action: str,
    from_state: ApplicationState | None,
    today: date,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """One line of the review trail (who, when, what, why) and the matching audit record."""
    session.add(
        DemonstrationReviewEvent(
            application_id=application.id,
            occurred_at=utcnow(),
            business_date=today,
            action=action,
            from_state=from_state.value if from_state is not None else None,
            to_state=application.state.value,
            actor_sub=principal.sub,
            actor_role=principal.role.value,
            actor_region_code=principal.region_code,
            reason=reason,
            details=details,
        )
    )
    changes: dict[str, Any] = {"state": [from_state.value if from_state else None, application.state.value]}
    if reason:
        changes["reason"] = reason
    audit.record(
        session,
        principal,
        action=f"{ENTITY}.{action}",
        entity_type=ENTITY,
        entity_id=application.id,
        changes=changes,
    )


def fold_items(
    kind: ApplicationKind, items: Mapping[AssessmentItem, str | None] | None
) -> dict[AssessmentItem, str | None] | None:
    """The stand-in form's items (``DEPRECATED_ITEMS``, accepted until API 2.0.0) moved to the work plan's
    headings; several texts landing on one heading are joined (a null clears the heading if nothing else
    lands there). Unknown items are left for :func:`_check_items` to refuse."""
    if items is None:
        return None
    renames = DEPRECATED_ITEMS[kind]
    folded: dict[AssessmentItem, str | None] = {k: v for k, v in items.items() if k not in renames}
    for old, new in renames.items():
        if old not in items:
            continue
        text = items[old]
        if text is None:
            folded.setdefault(new, None)
        else:
            current = folded.get(new)
            if current is None:
                folded[new] = text
            elif text.strip() not in current:
                folded[new] = f"{current}\n\n{text}"
    return folded


def _check_items(kind: ApplicationKind, items: dict[AssessmentItem, Any] | None) -> None:
    wrong = [item for item in (items or {}) if item not in ITEMS_BY_KIND[kind]]
    if wrong:
        expected = "、".join(f"{i.value}（{ITEM_LABELS[i]}）" for i in ITEMS_BY_KIND[kind])
        raise Unprocessable(
            f"{KIND_LABELS[kind]}的自评项为：{expected}",
            code="demonstration_wrong_assessment_item",
            errors=[
                FieldError(
                    field=f"body.self_assessment.{item.value}",
                    message=f"不是{KIND_LABELS[kind]}的自评项",
                    code="wrong_item",
                )
                for item in wrong
            ],
        )


CONTACT_AND_DECLARED_FIELDS = (
    "declared_satisfaction_pct",
    "declared_no_major_incident",
    "contact_name",
    "contact_phone",
    "head_name",
    "head_phone",
    "postal_address",
    "postal_code",
)


async def ensure_not_barred(
    session: AsyncSession, applicant_key: str, applicant_name: str, *, today: date, bar_years: int
) -> None:
    """动态管理 (work plan 四(五)): a county or institution whose title was revoked may not apply again
    within ``bar_years`` years of the revocation. The bar ends on the revocation date's anniversary
    (revoked 2027-01-10, three years: refused up to 2030-01-09, allowed from 2030-01-10; a 29 February
    revocation's anniversary in a common year is 28 February, as for operating years)."""
    revoked = (
        await session.execute(
            select(DemonstrationApplication.id, DemonstrationApplication.closed_date)
            .where(
                DemonstrationApplication.applicant_key == applicant_key,
                DemonstrationApplication.state == ApplicationState.revoked,
                DemonstrationApplication.closed_date.is_not(None),
            )
            .order_by(DemonstrationApplication.closed_date.desc())
            .limit(1)
        )
    ).first()
    if revoked is None or revoked.closed_date is None:
        return
    application_id, revoked_date = revoked.id, revoked.closed_date
    allowed_from = criteria.anniversary(revoked_date, bar_years)
    if today < allowed_from:
        raise RevokedRecently(
            f"「{applicant_name}」的示范称号已于 {revoked_date.isoformat()} 撤销，"
            f"{bar_years} 年内不得申请创建示范，{allowed_from.isoformat()} 起方可申请",
            application_id=str(application_id),
            revoked_date=revoked_date,
            allowed_from=allowed_from,
        )


async def create(
    session: AsyncSession,
    principal: Principal,
    data: ApplicationCreate,
    *,
    today: date,
    revoked_bar_years: int,
) -> DemonstrationApplication:
    batch = await batches.get(session, data.batch_id)
    batches.ensure_within(batch, "preparation", today, doing="创建申报", check_end=False)
    batches.ensure_within(batch, "application", today, doing="创建申报", check_start=False)
    self_assessment = fold_items(data.kind, data.self_assessment)
    _check_items(data.kind, self_assessment)
    if data.kind is ApplicationKind.county:
        if principal.role is not Role.county_admin:
            raise WrongApplicantRole("示范县（市、区）由县级卫生健康部门为本地申报")
        region_code = principal.region_code
        if not divisions.is_county(region_code):
            raise WrongApplicantRole("只有县（市、区）可以申报示范县")
        applicant_key = f"county:{region_code}"
        applicant_name = _name(region_code)
        institution_id = None
    else:
        if principal.role is not Role.institution_admin or principal.institution_id is None:
            raise WrongApplicantRole("示范机构由机构管理员为本机构申报")
        institution = await session.get(Institution, principal.institution_id)
        if institution is None or not institution.active:
            raise InstitutionNotEligible("机构不存在或已停用，不能申报")
        if institution.national_demonstration_year is not None:
            raise InstitutionNotEligible(
                f"「{institution.name}」已于 {institution.national_demonstration_year} 年"
                "命名为全国医养结合示范机构"
            )
        region_code = institution.region_code
        applicant_key = f"institution:{institution.id}"
        applicant_name = institution.name
        institution_id = institution.id
    await ensure_not_barred(session, applicant_key, applicant_name, today=today, bar_years=revoked_bar_years)
    existing = await session.scalar(
        select(DemonstrationApplication.id).where(
            DemonstrationApplication.batch_id == batch.id,
            DemonstrationApplication.applicant_key == applicant_key,
        )
    )
    if existing is not None:
        raise AlreadyApplied(
            f"「{applicant_name}」已在批次「{batch.name}」中申报", extra={"application_id": str(existing)}
        )
    city_code = divisions.city_unit_of(region_code)
    assert city_code is not None  # a county of Fujian always has one
    application = DemonstrationApplication(
        batch_id=batch.id,
        kind=data.kind,
        applicant_key=applicant_key,
        region_code=region_code,
        city_code=city_code,
        institution_id=institution_id,
        applicant_name=applicant_name,
        state=ApplicationState.draft,
        declared_satisfaction_pct=data.declared_satisfaction_pct,
        declared_no_major_incident=data.declared_no_major_incident,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        head_name=data.head_name,
        head_phone=data.head_phone,
        postal_address=data.postal_address,
        postal_code=data.postal_code,
        items=[
            DemonstrationAssessmentItem(item=item, text=text.strip())
            for item, text in (self_assessment or {}).items()
            if text is not None
        ],
    )
    session.add(application)
    lost_race = AlreadyApplied(f"「{applicant_name}」已在批次「{batch.name}」中申报")
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent twin won the (batch, applicant) key
        raise lost_race from exc
    record_event(session, principal, application, action="create", from_state=None, today=today)
    await ensure_loaded(session, application)
    return application


def ensure_applicant_holds(principal: Principal, application: DemonstrationApplication) -> None:
    """Only the applicant edits the application, and only while it holds it (``draft``)."""
    level = acting_level(principal.role, application.kind)
    if level is not Level.applicant or not is_own(principal, application, level):
        raise NotApplicant("只有申报单位可以修改申报材料")
    ensure_held_by(application, Level.applicant, doing="修改申报材料")


def ensure_held_by(application: DemonstrationApplication, level: Level, *, doing: str) -> None:
    holding = holder(application.kind, application.state)
    if holding is level:
        return
    current = holder_of(application)
    raise ApplicationLocked(
        (
            f"申报已办结（{application.state.value}），不能再{doing}"
            if holding is Level.closed
            else f"申报现由{current.name}（{current.level_label}）办理，{LEVEL_LABELS[level]}不能再{doing}"
        ),
        holder=current.model_dump(mode="json"),
        state=application.state.value,
    )


def touch(application: DemonstrationApplication) -> None:
    """Bump the application's version when its parts change (a concurrent submit then gets 412)."""
    application.updated_at = utcnow()


async def update(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    data: ApplicationUpdate,
    *,
    if_match: str | None,
) -> DemonstrationApplication:
    application = await get(session, principal, application_id, details=False)
    check_if_match(if_match, application.version)
    ensure_applicant_holds(principal, application)
    await ensure_loaded(session, application, "items")
    sent = data.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for key in CONTACT_AND_DECLARED_FIELDS:
        if key in sent and getattr(application, key) != sent[key]:
            changes[key] = [getattr(application, key), sent[key]]
            setattr(application, key, sent[key])
    written = fold_items(application.kind, data.self_assessment)
    if written is not None:
        _check_items(application.kind, written)
        current = {item.item: item for item in application.items}
        for item, text in written.items():
            row = current.get(item)
            if text is None:
                if row is not None:
                    application.items.remove(row)
            elif row is None:
                application.items.append(DemonstrationAssessmentItem(item=item, text=text.strip()))
            else:
                row.text = text.strip()
            changes[f"self_assessment.{item.value}"] = "cleared" if text is None else "written"
    touch(application)
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"{ENTITY}.update",
        entity_type=ENTITY,
        entity_id=application.id,
        changes=changes,
    )
    await ensure_loaded(session, application)
    return application


# --------------------------------------------------------------------------------------------- criteria


async def evaluate(
    session: AsyncSession, application: DemonstrationApplication, *, today: date
) -> CriteriaReport:
    """The criteria now (live from the registry), or as frozen at submission."""
    await ensure_loaded(session, application, "items", "attachments")
    batch = application.batch
    attachments_by_item: dict[AssessmentItem | None, int] = {}
    for attachment in application.attachments:
        attachments_by_item[attachment.item] = attachments_by_item.get(attachment.item, 0) + 1
    texts = {item.item for item in application.items}
    items = [
        ItemStatus(
            item=item,
            label=ITEM_LABELS[item],
            filled=item in texts,
            attachments=attachments_by_item.get(item, 0),
        )
        for item in ITEMS_BY_KIND[application.kind]
    ]
    frozen = application.frozen_figures
    if frozen is not None:
        results = [CriterionResult.model_validate(c) for c in frozen["criteria"]]
        evaluated_on = date.fromisoformat(frozen["evaluated_on"])
    else:
        results, _ = await compute_criteria(session, application, batch)
        evaluated_on = today
    failing = [c.code for c in results if c.hard and not c.passed]
    failing += [f"self_assessment.{i.item.value}" for i in items if not i.filled]
    return CriteriaReport(
        application_id=application.id,
        kind=application.kind,
        frozen=frozen is not None,
        evaluated_on=evaluated_on,
        operating_cutoff_date=batch.operating_cutoff_date,
        criteria=results,
        self_assessment=items,
        failing=failing,
        can_submit=frozen is None and not failing,
    )


async def compute_criteria(
    session: AsyncSession, application: DemonstrationApplication, batch: DemonstrationBatch
) -> tuple[list[CriterionResult], dict[str, Any]]:
    """The criteria and the registry figures they were computed from."""
    thresholds = figures.thresholds_of(batch)
    if application.kind is ApplicationKind.county:
        county = await figures.county_figures(session, application.region_code)
        info = CriterionResult(
            code="integrated_institutions",
            label="辖区医养结合机构数（登记）",
            hard=False,
            passed=None,
            value=str(county["integrated_institutions"]),
            unit="家",
            detail=(
                f"辖区在册医养结合机构 {county['integrated_institutions']} 家，"
                f"医养结合床位 {county['beds_integrated']} 张"
            ),
        )
        return [info], county
    institution = await figures.load_institution(session, application.institution_id)
    if institution is None:  # the registry lost the institution: every hard criterion fails visibly
        facts = criteria.InstitutionFacts(None, None, ())
        registry: dict[str, Any] = {"institution_id": str(application.institution_id), "missing": True}
    else:
        facts, registry = await figures.institution_facts(session, institution, batch.operating_cutoff_date)
    results = criteria.institution_criteria(
        facts,
        thresholds,
        declared_satisfaction_pct=application.declared_satisfaction_pct,
        declared_no_major_incident=application.declared_no_major_incident,
    )
    return results, registry


async def criteria_report(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID, *, today: date
) -> CriteriaReport:
    application = await get(session, principal, application_id, details=False)
    return await evaluate(session, application, today=today)


# ------------------------------------------------------------------------------------------ attachments


async def add_attachment(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    *,
    upload: UploadFile,
    title: str,
    item: AssessmentItem | None,
    max_bytes: int,
) -> DemonstrationAttachment:
    application = await get(session, principal, application_id, details=False)
    ensure_applicant_holds(principal, application)
    if item is not None:
        item = DEPRECATED_ITEMS[application.kind].get(item, item)
        _check_items(application.kind, {item: None})
    checked = await read_checked(upload, max_bytes=max_bytes)
    attachment = DemonstrationAttachment(
        application_id=application.id,
        item=item,
        title=title,
        filename=checked.filename,
        content_type=checked.content_type,
        size_bytes=len(checked.content),
        sha256=checked.sha256,
        content=checked.content,
        uploaded_by=principal.sub,
    )
    session.add(attachment)
    touch(application)
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"{ENTITY}.attachment.add",
        entity_type=ENTITY,
        entity_id=application.id,
        changes={
            "attachment_id": attachment.id,
            "filename": attachment.filename,
            "sha256": attachment.sha256,
            "size_bytes": attachment.size_bytes,
        },
    )
    return attachment


async def get_attachment(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    attachment_id: uuid.UUID,
    *,
    with_content: bool = False,
) -> tuple[DemonstrationApplication, DemonstrationAttachment]:
    application = await get(session, principal, application_id, details=False)
    stmt = select(DemonstrationAttachment).where(
        DemonstrationAttachment.id == attachment_id, DemonstrationAttachment.application_id == application.id
    )
    if with_content:
        stmt = stmt.options(undefer(DemonstrationAttachment.content))
    attachment = await session.scalar(stmt)
    if attachment is None:
        raise AttachmentNotFound()
    return application, attachment


async def delete_attachment(
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    attachment_id: uuid.UUID,
    *,
    if_match: str | None,
) -> None:
    application, attachment = await get_attachment(session, principal, application_id, attachment_id)
    check_if_match(if_match, attachment.version)
    ensure_applicant_holds(principal, application)
    await session.delete(attachment)
    touch(application)
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"{ENTITY}.attachment.delete",
        entity_type=ENTITY,
        entity_id=application.id,
        changes={
            "attachment_id": attachment_id,
            "filename": attachment.filename,
            "sha256": attachment.sha256,
        },
    )


# ------------------------------------------------------------------------------------ trail, named list


async def trail(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> list[DemonstrationReviewEvent]:
    application = await get(session, principal, application_id, details=False)
    stmt = (
        select(DemonstrationReviewEvent)
        .where(DemonstrationReviewEvent.application_id == application.id)
        .order_by(DemonstrationReviewEvent.occurred_at, DemonstrationReviewEvent.id)
    )
    return list((await session.scalars(stmt)).all())


async def named(
    session: AsyncSession,
    *,
    params: PageParams,
    kind: ApplicationKind | None = None,
    batch_id: uuid.UUID | None = None,
) -> tuple[list[DemonstrationApplication], str | None]:
    """Named demonstrations (public: the nation publishes them), with their batch."""
    stmt = (
        select(DemonstrationApplication)
        .where(DemonstrationApplication.state == ApplicationState.named)
        .options(selectinload(DemonstrationApplication.batch))
    )
    if kind is not None:
        stmt = stmt.where(DemonstrationApplication.kind == kind)
    if batch_id is not None:
        stmt = stmt.where(DemonstrationApplication.batch_id == batch_id)
    return await paginate(
        session,
        stmt,
        order_by=[DemonstrationApplication.named_date, DemonstrationApplication.id],
        params=params,
    )


def _name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code
