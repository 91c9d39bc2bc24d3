"""Batches: the province opens one per national round, with quotas, stage dates and the rules it applies."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.pagination import PageParams, paginate
from services.registry.demonstration.errors import (
    BatchNameTaken,
    BatchNotFound,
    BatchRulesFrozen,
    StageClosed,
)
from services.registry.demonstration.models import (
    ApplicationState,
    DemonstrationApplication,
    DemonstrationBatch,
)
from services.registry.demonstration.schemas import (
    STAGE_LABELS,
    STAGES,
    BatchCreate,
    BatchRead,
    BatchStages,
    BatchUpdate,
    StageWindow,
)
from services.registry.settings import RegistrySettings


def stage_window(batch: DemonstrationBatch, stage: str) -> tuple[date, date]:
    start: date = getattr(batch, f"{stage}_start_date")
    end: date = getattr(batch, f"{stage}_end_date")
    return start, end


def stages_of(batch: DemonstrationBatch) -> BatchStages:
    windows = {}
    for stage in STAGES:
        start, end = stage_window(batch, stage)
        windows[stage] = StageWindow(start_date=start, end_date=end)
    return BatchStages.model_validate(windows)


def current_stage(batch: DemonstrationBatch, today: date) -> str | None:
    """The latest stage whose window holds ``today`` (stages may overlap by a few days)."""
    found = None
    for stage in STAGES:
        start, end = stage_window(batch, stage)
        if start <= today <= end:
            found = stage
    return found


def to_read(batch: DemonstrationBatch, today: date) -> BatchRead:
    return BatchRead(
        id=batch.id,
        name=batch.name,
        county_quota=batch.county_quota,
        institution_quota=batch.institution_quota,
        stages=stages_of(batch),
        operating_cutoff_date=batch.operating_cutoff_date,
        operating_years_min=batch.operating_years_min,
        occupancy_min_pct=batch.occupancy_min_pct,
        disabled_share_min_pct=batch.disabled_share_min_pct,
        satisfaction_min_pct=batch.satisfaction_min_pct,
        current_stage=current_stage(batch, today),
        version=batch.version,
        created_at=batch.created_at,
        updated_at=batch.updated_at,
    )


def ensure_within(
    batch: DemonstrationBatch,
    stage: str,
    today: date,
    *,
    doing: str,
    check_start: bool = True,
    check_end: bool = True,
    extended_until: date | None = None,
) -> None:
    """Refuse ``doing`` outside the stage's window (Asia/Shanghai dates; the end date is included)."""
    start, end = stage_window(batch, stage)
    if extended_until is not None and extended_until > end:
        end = extended_until
    label = STAGE_LABELS[stage]
    if check_start and today < start:
        raise StageClosed(
            f"{label}自 {start.isoformat()} 开始，今天（{today.isoformat()}）尚未开始，不能{doing}",
            code="demonstration_stage_not_open",
            stage=stage,
            start=start,
            end=end,
            today=today,
        )
    if check_end and today > end:
        raise StageClosed(
            f"{label}已于 {end.isoformat()} 截止，今天（{today.isoformat()}）不能再{doing}",
            code="demonstration_deadline_passed",
            stage=stage,
            start=start,
            end=end,
            today=today,
        )


def _stage_columns(stages: BatchStages) -> dict[str, date]:
    columns: dict[str, date] = {}
    for stage in STAGES:
        window: StageWindow = getattr(stages, stage)
        columns[f"{stage}_start_date"] = window.start_date
        columns[f"{stage}_end_date"] = window.end_date
    return columns


async def _ensure_name_free(session: AsyncSession, name: str, *, except_id: uuid.UUID | None = None) -> None:
    stmt = select(DemonstrationBatch.id).where(DemonstrationBatch.name == name)
    if except_id is not None:
        stmt = stmt.where(DemonstrationBatch.id != except_id)
    if await session.scalar(stmt) is not None:
        raise BatchNameTaken(f"已有同名批次「{name}」")


async def create(
    session: AsyncSession,
    principal: Principal,
    data: BatchCreate,
    *,
    settings: RegistrySettings,
    batch_id: uuid.UUID | None = None,
) -> DemonstrationBatch:
    """Open a batch (``batch_id`` only for demo data with stable ids)."""
    await _ensure_name_free(session, data.name)
    batch = DemonstrationBatch(
        id=batch_id or uuid.uuid4(),
        name=data.name,
        county_quota=data.county_quota,
        institution_quota=data.institution_quota,
        **_stage_columns(data.stages),
        operating_cutoff_date=data.operating_cutoff_date or settings.demo_operating_cutoff,
        operating_years_min=data.operating_years_min or settings.demo_operating_years_min,
        occupancy_min_pct=(
            data.occupancy_min_pct if data.occupancy_min_pct is not None else settings.demo_occupancy_min_pct
        ),
        disabled_share_min_pct=(
            data.disabled_share_min_pct
            if data.disabled_share_min_pct is not None
            else settings.demo_disabled_share_min_pct
        ),
        satisfaction_min_pct=(
            data.satisfaction_min_pct
            if data.satisfaction_min_pct is not None
            else settings.demo_satisfaction_min_pct
        ),
        created_by=principal.sub,
    )
    session.add(batch)
    await session.flush()
    audit.record(
        session,
        principal,
        action="demonstration_batch.create",
        entity_type="demonstration_batch",
        entity_id=batch.id,
        changes=data.model_dump(mode="json"),
    )
    return batch


async def get(session: AsyncSession, batch_id: uuid.UUID) -> DemonstrationBatch:
    """Batches are province-wide: every principal allowed to read 示范 data sees them all."""
    batch = await session.get(DemonstrationBatch, batch_id)
    if batch is None:
        raise BatchNotFound()
    return batch


async def list_(session: AsyncSession, *, params: PageParams) -> tuple[list[DemonstrationBatch], str | None]:
    stmt = select(DemonstrationBatch)
    return await paginate(
        session,
        stmt,
        order_by=[DemonstrationBatch.preparation_start_date, DemonstrationBatch.id],
        params=params,
        descending=True,
    )


async def update(
    session: AsyncSession,
    principal: Principal,
    batch_id: uuid.UUID,
    data: BatchUpdate,
    *,
    if_match: str | None,
) -> DemonstrationBatch:
    batch = await get(session, batch_id)
    check_if_match(if_match, batch.version)
    sent = data.model_dump(exclude_unset=True)
    values: dict[str, Any] = {}
    if data.name is not None:
        await _ensure_name_free(session, data.name, except_id=batch.id)
        values["name"] = data.name
    for key in ("county_quota", "institution_quota"):
        if sent.get(key) is not None:
            values[key] = sent[key]
    if data.stages is not None:
        values.update(_stage_columns(data.stages))
    if data.operating_cutoff_date is not None and data.operating_cutoff_date != batch.operating_cutoff_date:
        submitted = await session.scalar(
            select(
                exists().where(
                    DemonstrationApplication.batch_id == batch.id,
                    DemonstrationApplication.state != ApplicationState.draft,
                )
            )
        )
        if submitted:
            raise BatchRulesFrozen(
                f"批次「{batch.name}」已有提交的申报，运营年限截止日期不能再改"
                f"（当前 {batch.operating_cutoff_date.isoformat()}）"
            )
        values["operating_cutoff_date"] = data.operating_cutoff_date
    before = {key: getattr(batch, key) for key in values}
    for key, value in values.items():
        setattr(batch, key, value)
    await session.flush()
    audit.record(
        session,
        principal,
        action="demonstration_batch.update",
        entity_type="demonstration_batch",
        entity_id=batch.id,
        changes=audit.diff(before, values),
    )
    return batch
