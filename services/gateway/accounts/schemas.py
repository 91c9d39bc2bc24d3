from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common import divisions
from libs.common.auth import ROLE_LABELS, Role
from libs.common.openapi import enum_labels
from libs.common.text import SingleLine

UserRole = Literal["province_admin", "city_admin", "county_admin", "institution_admin", "institution_staff"]
USERNAME_PATTERN = r"^[a-z][a-z0-9_.-]{2,63}$"


class UserCreate(BaseModel):
    username: str = Field(
        pattern=USERNAME_PATTERN,
        description="小写字母开头，3–64 位小写字母、数字、_ . -",
        examples=["huli_nurse01"],
    )
    display_name: SingleLine = Field(min_length=1, max_length=100, examples=["林晓燕"])
    password: str = Field(min_length=1, max_length=128, description="初始密码（至少 8 位，含三类字符）")
    role: UserRole = Field(
        description="只能创建下一级角色",
        examples=["county_admin"],
        json_schema_extra=enum_labels({role: ROLE_LABELS[Role(role)] for role in get_args(UserRole)}),
    )
    region_code: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="设区市/县级管理员必填；机构用户取所属机构的行政区划",
        examples=["350206"],
    )
    institution_id: uuid.UUID | None = Field(
        default=None, description="机构管理员必填（须在您管辖的县区内）；机构医护人员默认为您的机构"
    )
    practitioner_id: uuid.UUID | None = Field(default=None, description="医护人员对应的执业人员 id（可选）")


class UserUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"display_name": "林晓燕（主管护师）"}]}
    )

    display_name: SingleLine | None = Field(default=None, min_length=1, max_length=100)
    password: str | None = Field(
        default=None, min_length=1, max_length=128, description="重置密码（撤销其全部会话）"
    )
    practitioner_id: uuid.UUID | None = Field(default=None, description="仅机构医护人员")


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    display_name: str
    role: Role
    region_code: str
    institution_id: uuid.UUID | None
    practitioner_id: uuid.UUID | None
    active: bool
    version: int
    created_by: str | None
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


class RoleOption(BaseModel):
    value: Role
    label: str


class AuthEnums(BaseModel):
    roles: list[RoleOption]
