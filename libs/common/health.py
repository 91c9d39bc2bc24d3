"""Liveness and readiness: ``/healthz`` answers while the process runs, ``/readyz`` checks the database."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from libs.common.database import Database
from libs.common.errors import ServiceUnavailable, problem_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    service: str


@router.get("/healthz", summary="存活检查", operation_id="healthz", response_model=Health)
async def healthz(request: Request) -> Health:
    return Health(status="ok", service=request.app.state.settings.service_name)


@router.get(
    "/readyz",
    summary="就绪检查（含数据库）",
    operation_id="readyz",
    response_model=Health,
    responses=problem_responses(503),
)
async def readyz(request: Request) -> Health:
    database: Database = request.app.state.database
    try:
        await database.ping()
    except (SQLAlchemyError, OSError) as exc:
        raise ServiceUnavailable("数据库不可用", code="database_unavailable") from exc
    return Health(status="ready", service=request.app.state.settings.service_name)
