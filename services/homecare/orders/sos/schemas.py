from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from libs.common.text import MultiLine


class SosRaise(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_event_id": "e1e111ea-1ab0-4b30-a093-c4097d0bef5b",
                    "client_at": "2026-12-01T09:50:00+08:00",
                    "latitude": 24.5258,
                    "longitude": 118.1187,
                    "message": "服务对象家属情绪激动、言语威胁，请求机构支援",
                }
            ]
        }
    )

    client_event_id: uuid.UUID = Field(description="客户端生成的 ID；重发不会重复报警")
    client_at: AwareDatetime
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    message: MultiLine | None = Field(default=None, max_length=500)


class SosResolve(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"resolution": "机构已电话安抚家属并派同事到场，护士已安全离开"}]}
    )

    resolution: MultiLine = Field(min_length=1, max_length=1000)


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
