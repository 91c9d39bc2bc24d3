from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SosRaise(BaseModel):
    client_event_id: uuid.UUID = Field(description="客户端生成的 ID；重发不会重复报警")
    client_at: AwareDatetime
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    message: str | None = Field(default=None, max_length=500)


class SosResolve(BaseModel):
    resolution: str = Field(min_length=1, max_length=1000)


class SosRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    institution_id: uuid.UUID
    region_code: str
    practitioner_id: uuid.UUID
    client_at: datetime
    raised_at: datetime
    latitude: float | None
    longitude: float | None
    message: str | None
    resolved_at: datetime | None
    resolution: str | None
    version: int
