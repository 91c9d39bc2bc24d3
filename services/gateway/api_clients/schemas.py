from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common import divisions
from libs.common.auth import ROLE_LABELS, Role
from libs.common.text import SingleLine


class ApiClientCreate(BaseModel):
    client_id: str = Field(
        pattern=r"^[a-z][a-z0-9_]{2,63}$",
        description="客户端标识（小写字母、数字、下划线）",
        examples=["fz_city_platform"],
    )
    name: SingleLine = Field(min_length=1, max_length=200, examples=["福州市智慧健康养老服务平台"])
    region_code: str = Field(
        pattern=r"^\d{6}$", description="所属设区市（或平潭综合实验区 350128）", examples=["350100"]
    )


class ApiClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    client_id: str
    name: str
    role: Role
    region_code: str
    active: bool
    secret_rotated_at: datetime | None
    revoked_at: datetime | None
    created_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class ApiClientWithSecret(ApiClientRead):
    client_secret: str = Field(description="客户端密钥：只在此响应中出现一次，请妥善保存")
